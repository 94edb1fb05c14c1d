"""What ``up`` does with an autoscaled deployment (pure: hashes and the plan): its count
is the autoscaler's, so a replica count other than the spec's restarts nothing, and new
bounds are applied by the loop, not by a restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from devkit.autoscale.capacity import machine_cap
from devkit.engines.record import Running, Wanted, make_plan, run_hash, starting_counts
from devkit.spec import load
from devkit.spec.model import ScaleSettings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "scaled"


def _blue():
    return load([FIXTURE]).deployments[0]


def _plan(spec, healthy: int, recorded: int):
    want = Wanted(spec, run_hash(spec, ""), "env")
    return make_plan([want], [Running("blue", want.spec_hash, "env", False, healthy, recorded)])


def test_a_scaled_deployment_with_more_replicas_than_it_started_with_is_kept() -> None:
    assert _plan(_blue(), healthy=3, recorded=1).keep == ("blue",)
    assert _plan(_blue(), healthy=0, recorded=1).restart == ("blue",)  # none left: restart
    fixed = dataclasses.replace(_blue(), scale_settings=ScaleSettings())
    assert _plan(fixed, healthy=3, recorded=1).restart == ("blue",)  # a fixed count is exact


def test_new_bounds_do_not_restart_but_a_new_scale_type_does() -> None:
    blue = _blue()
    wider = dataclasses.replace(blue, instance_count=2, scale_settings=dataclasses.replace(
        blue.scale_settings, min_instances=2, max_instances=5, polling_interval=3))
    assert run_hash(wider, "") == run_hash(blue, "")
    fixed = dataclasses.replace(blue, scale_settings=ScaleSettings())
    assert run_hash(fixed, "") != run_hash(blue, "")


def test_up_starts_instance_count_kept_within_min_and_max() -> None:
    endpoint = load([FIXTURE])
    blue = endpoint.deployments[0]
    for count, bounds, started in [(1, (2, 3), 2), (5, (1, 3), 3), (2, (1, 3), 2),
                                   (1, (0, 2), 1)]:
        scale = dataclasses.replace(blue.scale_settings, min_instances=bounds[0],
                                    max_instances=bounds[1])
        spec = dataclasses.replace(blue, instance_count=count, scale_settings=scale)
        shaped = starting_counts(dataclasses.replace(endpoint, deployments=(spec,)))
        assert shaped.deployments[0].instance_count == started, (count, bounds)


def test_the_machine_cap_is_cores_and_memory_over_one_replica() -> None:
    blue = _blue()  # Standard_DS1_v2: 1 core, 3.5 GiB
    gib = 1024**3
    assert machine_cap(blue, 2, 64 * gib)[0] == 2
    assert machine_cap(blue, 16, 8 * gib)[0] == 2  # memory is the limit here
    cap, note = machine_cap(blue, 1, 2 * gib)  # smaller than one replica: still one
    assert cap == 1 and "one replica of Standard_DS1_v2 takes 1 core(s)" in note
    unknown = dataclasses.replace(blue, instance_type="Standard_Unknown_v9")
    assert machine_cap(unknown, 2, 64 * gib) == (None, "")


def test_only_target_utilization_gets_an_autoscaler() -> None:
    from devkit.autoscale import daemon

    endpoint = load([FIXTURE])
    assert daemon.wanted(endpoint)
    fixed = dataclasses.replace(endpoint, deployments=tuple(
        dataclasses.replace(d, scale_settings=ScaleSettings()) for d in endpoint.deployments))
    assert not daemon.wanted(fixed)
    assert starting_counts(fixed) == fixed  # `default` keeps instance_count as written
