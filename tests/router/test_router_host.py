"""Host side: router.json from real YAML specs, keys, tokens and live traffic changes
through the real CLI, against a real router process and real upstream servers."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from router_helpers import RouterProcess

from devkit import spec
from devkit.cli.main import cli
from devkit.errors import SpecError
from devkit.router import router_config_path, write_router_config
from devkit.router.keys import keys_path

DEPLOYMENT = """\
name: {name}
endpoint_name: shop
code_configuration: {{code: ., scoring_script: score.py}}
environment: {{image: python:3.11-slim}}
instance_type: Standard_DS2_v2
instance_count: 2
request_settings: {{request_timeout_ms: 1500, max_concurrent_requests_per_instance: 4}}
"""


def write_specs(folder: Path, auth_mode: str, traffic: str = "{blue: 100, green: 0}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    (folder / "endpoint.yml").write_text(
        f"name: shop\nauth_mode: {auth_mode}\ntraffic: {traffic}\n")
    for name in ("blue", "green"):
        (folder / f"{name}.yml").write_text(DEPLOYMENT.format(name=name))
    return folder


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return 1, f"{result.output}{result.exception}"
    return result.exit_code, result.output


@pytest.fixture
def shop(isolated_state, tmp_path, upstreams):
    """A key-auth endpoint 'shop' with blue and green upstreams, config written, router
    running on it."""
    blue, green = upstreams("blue"), upstreams("green")
    endpoint = spec.load([write_specs(tmp_path / "spec", "key")])
    path = write_router_config(endpoint, {"blue": [blue.url], "green": [green.url]})
    proc = RouterProcess(path)
    proc.wait_ready()
    yield proc
    proc.stop()


def test_config_comes_from_the_spec_and_holds_no_secret(shop, isolated_state) -> None:
    path = router_config_path("shop")
    assert path == isolated_state / "endpoints" / "shop" / "router" / "router.json"
    raw = json.loads(path.read_text())
    blue = raw["deployments"][0]
    assert (blue["name"], blue["weight"], blue["request_timeout_ms"]) == ("blue", 100, 1500)
    assert (blue["max_concurrent_requests_per_instance"], blue["instance_count"]) == (4, 2)
    keys = json.loads(keys_path("shop").read_text())
    assert stat.S_IMODE(keys_path("shop").stat().st_mode) == 0o600
    assert keys["primary"] not in path.read_text() and keys["secondary"] not in path.read_text()
    described = httpx.get(f"{shop.url}/-/config").text
    assert "sha256" not in described and keys["primary"] not in described


def test_keys_work_and_rotation_applies_live(shop) -> None:
    code, out = run_cli("keys", "shop", "--json")
    assert code == 0, out
    before = json.loads(out)

    def call(key: str) -> int:
        return httpx.post(f"{shop.url}/score", content="{}",
                          headers={"Authorization": f"Bearer {key}"}).status_code

    assert call(before["primary"]) == call(before["secondary"]) == 200
    code, out = run_cli("keys", "shop", "--regenerate", "primary", "--json")
    assert code == 0, out
    after = json.loads(out)
    assert after["secondary"] == before["secondary"] and after["primary"] != before["primary"]
    # the command returns once the router has applied the new hashes
    assert call(before["primary"]) == 401
    assert call(after["primary"]) == call(after["secondary"]) == 200
    code, out = run_cli("token", "shop")
    assert code != 0 and "devkit keys shop" in out


def test_traffic_changes_live_and_is_validated_by_the_spec_rules(shop) -> None:
    key = json.loads(run_cli("keys", "shop", "--json")[1])["primary"]
    auth = {"Authorization": f"Bearer {key}"}
    code, out = run_cli("traffic", "shop", "blue=0", "green=100")
    assert code == 0, out
    assert "blue=0 green=100" in out and "Applied live." in out
    answer = httpx.post(f"{shop.url}/score", content="{}", headers=auth)
    assert answer.headers["azureml-model-deployment"] == "green"
    code, out = run_cli("traffic", "shop", "green=100", "--mirror", "blue=20", "--json")
    assert code == 0, out
    assert json.loads(out)["mirror"] == {"blue": 20} and json.loads(out)["applied"]
    code, out = run_cli("traffic", "shop", "blue=50")
    assert code != 0 and "sum to 50" in out
    code, out = run_cli("traffic", "shop", "--json")
    assert json.loads(out)["traffic"] == {"blue": 0, "green": 100}


def test_traffic_without_a_running_router_is_saved(isolated_state, tmp_path) -> None:
    endpoint = spec.load([write_specs(tmp_path / "spec", "key")])
    write_router_config(endpoint, {"blue": ["http://127.0.0.1:9"]})
    code, out = run_cli("traffic", "shop", "blue=0", "green=100")
    assert code == 0 and "Saved" in out
    raw = json.loads(router_config_path("shop").read_text())
    assert raw["generation"] == 2 and raw["deployments"][1]["weight"] == 100


def test_unknown_endpoint_says_how_to_start_it(isolated_state) -> None:
    code, out = run_cli("keys", "nowhere")
    assert code != 0 and "devkit up" in out


def test_token_lifetime_and_expiry_through_the_router(isolated_state, tmp_path,
                                                      upstreams) -> None:
    blue = upstreams("blue")
    endpoint = spec.load([write_specs(tmp_path / "spec", "aml_token")])
    path = write_router_config(endpoint, {"blue": [blue.url]})
    secret = path.parent / "token.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    proc = RouterProcess(path)
    try:
        proc.wait_ready()
        code, out = run_cli("token", "shop", "--json", "--lifetime", "1")
        assert code == 0, out
        issued = json.loads(out)
        assert issued["expires_at"].endswith("Z")
        auth = {"Authorization": f"Bearer {issued['token']}"}
        assert httpx.post(f"{proc.url}/score", content="{}", headers=auth).status_code == 200
        time.sleep(1.1)
        assert httpx.post(f"{proc.url}/score", content="{}", headers=auth).status_code == 401
        fresh = json.loads(run_cli("token", "shop", "--json")[1])["token"]
        assert httpx.post(f"{proc.url}/score", content="{}",
                          headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
        code, out = run_cli("keys", "shop")
        assert code != 0 and "devkit token shop" in out
    finally:
        proc.stop()


def test_aad_token_is_refused_at_load_time_with_the_alternatives(isolated_state,
                                                                 tmp_path) -> None:
    folder = write_specs(tmp_path / "spec", "aad_token")
    with pytest.raises(SpecError, match="not available locally.*key or aml_token") as caught:
        spec.load([folder])
    assert caught.value.file is not None and caught.value.file.endswith("endpoint.yml")
    assert caught.value.line is not None and caught.value.field == "auth_mode"
    assert not (isolated_state / "endpoints").exists()  # nothing was written or started


def test_single_deployment_without_weights_takes_all_traffic(isolated_state,
                                                             tmp_path) -> None:
    folder = write_specs(tmp_path / "spec", "key")
    (folder / "green.yml").unlink()
    (folder / "endpoint.yml").write_text("name: shop\n")
    path = write_router_config(spec.load([folder]), {"blue": ["http://127.0.0.1:5001"]})
    assert json.loads(path.read_text())["deployments"][0]["weight"] == 100
