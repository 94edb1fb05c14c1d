"""Targets files and plans: pure logic, real YAML files in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.engines.sku import GIB
from devkit.errors import CapacityError, TargetUnavailable
from devkit.promote import targets as tg
from devkit.promote.plan import KEEP, Live, Node, make_plan
from devkit.promote.release import DeploymentRelease, Release


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVKIT_CONFIG_DIR", str(tmp_path / "user"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_add_list_remove_and_project_wins(config: Path) -> None:
    tg.add_target(tg.Target("a", "swarm", "127.0.0.1:5000"), tg.user_file())
    tg.add_target(tg.Target("a", "swarm", "10.0.0.1:5000", address="10.0.0.1"),
                  tg.project_file())
    tg.add_target(tg.Target("k", "kubernetes", "r:1", namespace="ml"), tg.user_file())
    found = tg.load_targets()
    assert sorted(found) == ["a", "k"]
    assert found["a"].registry == "10.0.0.1:5000" and found["a"].client_address == "10.0.0.1"
    assert "namespace: ml" in tg.user_file().read_text()
    tg.remove_target("a", tg.project_file())
    assert tg.get_target("a").registry == "127.0.0.1:5000"
    with pytest.raises(TargetUnavailable, match="has no target 'zz'"):
        tg.remove_target("zz", tg.user_file())


def test_bad_entries_name_file_and_fix(config: Path) -> None:
    tg.project_file().write_text("targets:\n  x:\n    kind: nomad\n    registry: r:1\n")
    with pytest.raises(TargetUnavailable, match="kind 'nomad' is not one of"):
        tg.load_targets()
    tg.project_file().write_text("targets:\n  x:\n    kind: swarm\n    registy: r:1\n")
    with pytest.raises(TargetUnavailable, match="unknown key"):
        tg.load_targets()
    with pytest.raises(TargetUnavailable, match="No target named 'nope'"):
        tg.project_file().unlink() or tg.get_target("nope")


def test_compute_names_the_default_target(config: Path) -> None:
    tg.add_target(tg.Target("swarm1", "swarm", "127.0.0.1:5000"), tg.user_file())
    assert tg.target_for("azureml:swarm1", None, "ep").name == "swarm1"
    with pytest.raises(TargetUnavailable, match="names no target"):
        tg.target_for(None, None, "ep")


def _release(replicas: int = 1, tag: str = "r/x:1", traffic: int = 100) -> Release:
    blue = DeploymentRelease("blue", tag + "@sha256:ab", replicas, "Standard_DS3_v2", 4.0,
                             14 * GIB, {"A": "1"})
    return Release("ep", "key", {"blue": traffic} if traffic else {}, {}, (blue,),
                   "r/router:1@sha256:cd")


NODES = [Node("n1", 2.0, 24 * GIB)]


def test_same_release_is_nothing_to_do_and_changes_are_named() -> None:
    live = Live({"blue": 100}, {}, keys=True)
    same = make_plan(_release(), _release(), live, NODES, "t", overcommit=True)
    assert same.nothing_to_do and all(c.action == KEEP for c in same.changes)
    first = make_plan(_release(), None, Live(), NODES, "t", overcommit=True)
    assert {c.what for c in first.changes if c.action == "create"} >= {
        "deployment blue", "router", "traffic", "keys"}
    scaled = make_plan(_release(replicas=3), _release(), live, NODES, "t", overcommit=True)
    assert "replicas 1 -> 3 (in place)" in scaled.render()
    new_code = make_plan(_release(tag="r/x:2"), _release(), live, NODES, "t", overcommit=True)
    assert "new replicas (image 1 -> 2)" in new_code.render()


def test_capacity_uses_azure_headroom_and_refuses_with_what_is_missing() -> None:
    plan = make_plan(_release(replicas=3), None, Live(), NODES, "swarm1")
    # ceil(1.2 x 3) = 4 instances of 4 cores and 14 GiB
    assert plan.capacity.cores == 16 and plan.capacity.memory == 56 * GIB
    with pytest.raises(CapacityError, match="does not fit target 'swarm1': 14 more cores"):
        plan.require_fit()
    over = make_plan(_release(replicas=3), None, Live(), NODES, "swarm1", overcommit=True)
    over.require_fit()
    assert any("capped to 2 cores" in note for note in over.notes)
