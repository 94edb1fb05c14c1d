"""How the Swarm target translates ``egress_public_network_access: disabled``, offline: the
deployment's service goes on the endpoint's internal overlay network, the router on both,
the stack file says so, and releases made before the setting keep their fingerprints
(so promoting again after an upgrade replaces no service)."""

from __future__ import annotations

import dataclasses

from devkit.engines.sku import GIB
from devkit.promote.release import DeploymentRelease, Release
from devkit.promote.swarm import specs

BLUE = DeploymentRelease("blue", "r/x:1@sha256:ab", 1, "Standard_DS3_v2", 4.0, 14 * GIB,
                         {"A": "1"})
SEALED = dataclasses.replace(BLUE, name="green", egress_disabled=True)
RELEASE = Release("ep", "key", {"blue": 100}, {}, (BLUE, SEALED), "r/router:1@sha256:cd")


def test_fingerprints_of_releases_made_before_the_setting_are_kept() -> None:
    assert BLUE.fingerprint == "397c35366797"  # what devkit computed before egress existed
    assert dataclasses.replace(BLUE, egress_disabled=True).fingerprint != BLUE.fingerprint
    stored = Release.from_json({**RELEASE.to_json(), "deployments": [
        {k: v for k, v in dataclasses.asdict(BLUE).items() if k != "egress_disabled"}]})
    assert stored.deployments[0].fingerprint == BLUE.fingerprint


def test_router_joins_the_internal_network_and_services_are_labelled() -> None:
    router = specs.router_service(RELEASE, "devkit-ep", 8000, [], internal="devkit-ep-internal")
    assert [n["Target"] for n in router["networks"]] == ["devkit-ep", "devkit-ep-internal"]
    plain = specs.router_service(RELEASE, "devkit-ep", 8000, [])
    assert [n["Target"] for n in plain["networks"]] == ["devkit-ep"]
    service = specs.deployment_service("ep", SEALED, "devkit-ep-internal", (None, None), False)
    assert service["labels"][specs.EGRESS] == "disabled"
    assert [n["Target"] for n in service["networks"]] == ["devkit-ep-internal"]
    assert specs.EGRESS not in specs.deployment_service("ep", BLUE, "devkit-ep", (None, None),
                                                        False)["labels"]


def test_stack_file_puts_sealed_services_on_an_internal_network() -> None:
    stack = specs.stack(RELEASE, 8000, {"blue": (None, None), "green": (None, None)}, False)
    assert stack["networks"]["devkit-ep-internal"]["internal"] is True
    services = stack["services"]
    assert list(services[specs.service_name("ep", SEALED)]["networks"]) == ["devkit-ep-internal"]
    assert list(services[specs.service_name("ep", BLUE)]["networks"]) == ["devkit-ep"]
    assert services[specs.router_name("ep")]["networks"] == ["devkit-ep", "devkit-ep-internal"]
    alone = dataclasses.replace(RELEASE, deployments=(BLUE,))
    assert "devkit-ep-internal" not in specs.stack(alone, 8000, {"blue": (None, None)},
                                                   False)["networks"]
