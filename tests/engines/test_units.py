"""The engines' pure parts: SKU limits, the up plan, log line merging, readiness
budgets, state aggregation, and when the router config is (re)written."""

from __future__ import annotations

import json
from pathlib import Path

from devkit.engines.base import DeploymentState, aggregate
from devkit.engines.readiness import ReadinessWait
from devkit.engines.record import Running, Wanted, make_plan
from devkit.engines.routing import sync_config
from devkit.engines.sku import GIB, limits_for
from devkit.engines.streams import merge, split_lines
from devkit.spec import load
from devkit.spec.model import DeploymentSpec, EnvironmentSpec, ProbeSettings, Source


def test_sku_maps_to_its_cores_and_memory() -> None:
    limits = limits_for("Standard_F4s_v2", host_cpus=16, host_memory=64 * GIB)
    assert (limits.cpus, limits.memory_bytes, limits.gpus, limits.notes) == (4.0, 8 * GIB, 0, ())


def test_sku_is_capped_at_the_host_and_says_so() -> None:
    limits = limits_for("standard_ds5_v2", host_cpus=2, host_memory=8 * GIB)
    assert (limits.cpus, limits.memory_bytes) == (2.0, 8 * GIB)
    assert len(limits.notes) == 2 and "capped at the host's 2" in limits.notes[0]


def test_gpu_sku_asks_for_its_gpus() -> None:
    assert limits_for("Standard_NC6s_v3", 64, 512 * GIB).gpus == 1
    assert limits_for("Standard_NC24s_v3", 64, 512 * GIB).gpus == 4
    assert limits_for("Standard_DS2_v2", 64, 512 * GIB, force_gpu=True).gpus == 1


def test_unknown_sku_warns_and_sets_no_limit() -> None:
    limits = limits_for("Standard_Bogus_v9", 4, 8 * GIB)
    assert (limits.nano_cpus, limits.memory_bytes) == (None, None)
    assert "not in devkit's SKU table" in limits.notes[0]


def _wanted(name: str, spec_hash: str = "s", env_hash: str = "e") -> Wanted:
    spec = DeploymentSpec(name=name, endpoint_name="ep", source=Source(Path("x.yml")),
                          environment=EnvironmentSpec(image="img"), instance_type="x")
    return Wanted(spec, spec_hash, env_hash)


def _running(name: str, spec_hash: str = "s", env_hash: str = "e", alive: int = 1) -> Running:
    return Running(name, spec_hash, env_hash, False, alive, 1)


def test_plan_keeps_unchanged_restarts_changed_or_broken_and_removes_the_rest() -> None:
    plan = make_plan(
        [_wanted("same"), _wanted("spec", spec_hash="s2"), _wanted("env", env_hash="e2"),
         _wanted("dead"), _wanted("new")],
        [_running("same"), _running("spec"), _running("env"), _running("dead", alive=0),
         _running("gone")])
    assert plan.keep == ("same",)
    assert plan.restart == ("spec", "env", "dead")
    assert plan.start == ("new",)
    assert plan.remove == ("gone",)
    assert make_plan([_wanted("a")], [_running("a")]).touches_nothing


def test_split_lines_joins_chunks_cut_mid_line() -> None:
    assert list(split_lines([b"one\ntw", b"o\r\nthr", b"ee"])) == ["one", "two", "three"]


def test_merge_prefixes_each_replica_when_there_are_several() -> None:
    sources = [("a-0", lambda: [b"x\n"]), ("b-0", lambda: [b"y\n", b"z\n"])]
    assert list(merge(sources, follow=False)) == ["a-0 | x", "b-0 | y", "b-0 | z"]
    assert sorted(merge(sources, follow=True)) == ["a-0 | x", "b-0 | y", "b-0 | z"]
    assert list(merge(sources[:1], follow=False)) == ["x"]


def test_readiness_budget_comes_from_the_probe_settings() -> None:
    assert ReadinessWait(ProbeSettings()).budget == 10 + 10 * 30
    probe = ProbeSettings(initial_delay=1, period=2, failure_threshold=3)
    assert ReadinessWait(probe).budget == 7


def test_dead_replica_ends_the_wait_at_once() -> None:
    # Nothing listens on port 9 of loopback; the liveness callback reports death.
    outcome = ReadinessWait(ProbeSettings()).wait("http://127.0.0.1:9", lambda: "exited (1)")
    assert outcome.state is DeploymentState.STOPPED and outcome.error == "exited (1)"


def test_aggregate() -> None:
    ready, unhealthy = DeploymentState.READY, DeploymentState.UNHEALTHY
    assert aggregate([ready, ready]) is ready
    assert aggregate([ready, unhealthy]) is unhealthy
    assert aggregate([]) is DeploymentState.STOPPED


def test_router_config_is_rewritten_only_when_it_changes(isolated_state: Path,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return 1\n")
    (folder / "endpoint.yml").write_text("name: units\ntraffic: {blue: 90, green: 10}\n")
    for name in ("blue", "green"):
        (folder / f"{name}.yml").write_text(
            f"name: {name}\nendpoint_name: units\ninstance_type: Standard_DS2_v2\n"
            "code_configuration: {code: ., scoring_script: score.py}\n"
            "environment: {image: python:3.11-slim}\n")
    endpoint = load([folder])
    urls = {"blue": ["http://127.0.0.1:1"], "green": ["http://127.0.0.1:2"]}
    said: list[str] = []
    first = sync_config(endpoint, urls, said.append)
    assert (first.generation, first.changed, said) == (1, True, [])
    again = sync_config(endpoint, urls, said.append)
    assert (again.generation, again.changed, said) == (1, False, [])
    moved = sync_config(endpoint, {**urls, "green": ["http://127.0.0.1:3"]}, said.append)
    assert (moved.generation, moved.changed, said) == (2, True, [])
    # weights set live (as `devkit traffic` does) are replaced by the spec's, and said so
    raw = json.loads(first.path.read_text())
    raw["deployments"][0]["weight"], raw["deployments"][1]["weight"] = 20, 80
    first.path.write_text(json.dumps(raw))
    reset = sync_config(endpoint, {**urls, "green": ["http://127.0.0.1:3"]}, said.append)
    assert reset.changed and reset.generation == 3
    assert said == ["router: traffic set to the spec's blue=90 green=10 (replacing the live "
                    "blue=20 green=80; `devkit traffic` changes it live)"]
