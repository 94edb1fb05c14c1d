"""Promote samples/regression to a real single-node swarm with a real registry, and
operate it there: split, header pin, auth, live traffic change and a code-change rollout
under load, plan after apply, rollback, a never-healthy deployment, and ``down``.

The tests of this module run in order on one promoted endpoint (promoting takes tens of
seconds); each one states what it relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from load import SteadyLoad, burst

from devkit.actions import targets as ops
from devkit.actions.promote import PromoteOptions, PromoteResult, promote, rollback
from devkit.errors import EndpointNotFound, ReadinessTimeout

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

OPTIONS = PromoteOptions(target="swarm-test", overcommit=True)


def _promote(where: Path, **overrides: Any) -> PromoteResult:
    options = PromoteOptions(**{**OPTIONS.__dict__, **overrides})
    return promote(str(where), options, lambda line: None, lambda plan: True)


@pytest.fixture(scope="module")
def promoted(base_image: str, target_config: str,
             regression: tuple[str, Path]) -> Iterator[dict[str, Any]]:
    name, folder = regression
    try:
        result = _promote(folder)
        assert result.applied and result.status is not None
        yield {"name": name, "folder": folder, "result": result,
               "url": result.status.scoring_uri,
               "key": ops.keys(target_config, name)["primary"]}
    finally:  # whatever a failed test left behind (test_down_leaves_nothing removes it)
        with contextlib.suppress(EndpointNotFound):
            ops.down(target_config, name, lambda line: None)


def _auth(promoted: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {promoted['key']}", **extra}


def test_promote_runs_every_deployment_healthy_behind_the_router(
        promoted: dict[str, Any], target_config: str) -> None:
    [status] = ops.status(target_config, promoted["name"])
    assert status.engine == "swarm:swarm-test" and status.healthy
    assert status.scoring_uri == promoted["url"]
    assert {d.name: d.traffic for d in status.deployments} == {"blue": 90, "green": 10}
    assert all("@sha256:" in d.image for d in status.deployments)
    assert promoted["result"].pushed.bytes_pushed > 0


def test_plan_after_apply_has_nothing_to_do(promoted: dict[str, Any]) -> None:
    again = _promote(promoted["folder"], plan_only=True)
    assert again.plan is not None and again.plan.nothing_to_do, again.plan.render()
    assert not again.applied


def test_requests_need_a_key(promoted: dict[str, Any]) -> None:
    [(status, _)] = burst(promoted["url"], {}, 1, 1)
    assert status == 401
    [(status, _)] = burst(promoted["url"], _auth(promoted), 1, 1)
    assert status == 200


def test_split_70_30_within_tolerance(promoted: dict[str, Any], target_config: str) -> None:
    ops.traffic(target_config, promoted["name"], {"blue": 70, "green": 30}, None)
    results = burst(promoted["url"], _auth(promoted), 500, 10)
    assert [r for r in results if r[0] != 200] == []
    green = sum(1 for _, deployment in results if deployment == "green") / len(results)
    assert abs(green - 0.30) <= 0.05, green


def test_header_pins_a_deployment_with_no_traffic(promoted: dict[str, Any],
                                                  target_config: str) -> None:
    ops.traffic(target_config, promoted["name"], {"blue": 100, "green": 0}, None)
    results = burst(promoted["url"], _auth(promoted, **{"azureml-model-deployment": "green"}),
                    20, 2)
    assert results == [(200, "green")] * 20


def test_tui_shows_the_target_endpoint_edits_its_traffic_and_plans(
        promoted: dict[str, Any], target_config: str) -> None:
    from textual.app import App
    from textual.widgets import Log

    from devkit.tui.backend import Backend
    from devkit.tui.screens.promote import PromoteScreen

    backend = Backend(engines=[])
    name = f"{promoted['name']}@{target_config}"
    view = next(v for v in backend.snapshot().endpoints if v.name == name)
    assert view.engine == f"swarm:{target_config}" and view.scoring_uri == promoted["url"]
    assert backend.set_traffic(name, {"blue": 60, "green": 40}, {})
    [status] = ops.status(target_config, promoted["name"])
    assert {d.name: d.traffic for d in status.deployments} == {"blue": 60, "green": 40}

    async def drive() -> str:
        app: App[None] = App()
        async with app.run_test() as pilot:
            app.push_screen(PromoteScreen(promoted["folder"], target_config))
            for _ in range(600):
                await pilot.pause(0.2)
                text = "\n".join(app.screen.query_one(Log).lines)
                if "Capacity" in text or "error:" in text:
                    return text
        return ""

    shown = asyncio.run(drive())
    # the live 60/40 differs from the spec's 90/10: the plan says it would change that
    assert "~ change traffic: blue=60 green=40 -> blue=90 green=10" in shown, shown


def test_traffic_change_under_load_drops_nothing(promoted: dict[str, Any],
                                                 target_config: str) -> None:
    with SteadyLoad(promoted["url"], _auth(promoted)) as load:
        for split in ({"blue": 50, "green": 50}, {"blue": 10, "green": 90},
                      {"blue": 100, "green": 0}, {"blue": 90, "green": 10}):
            change = ops.traffic(target_config, promoted["name"], split, None)
            assert change["traffic"] == split
    assert load.results and not load.failures, load.failures[:5]
    assert {d for _, d in load.results} == {"blue", "green"}


def test_code_change_rolls_out_under_load_pushing_only_code_layers(
        promoted: dict[str, Any], target_config: str) -> None:
    score = promoted["folder"] / "score.py"
    score.write_text(score.read_text() + "\n# a code-only change\nRELEASE = 2\n")
    before = {d.name: d.urls for d in ops.status(target_config, promoted["name"])[0].deployments}
    with SteadyLoad(promoted["url"], _auth(promoted)) as load:
        result = _promote(promoted["folder"])
    assert result.applied and result.pushed is not None
    assert load.results and not load.failures, load.failures[:5]
    # blue and green share the code folder: a new code layer each, nothing else; when the
    # two code layers come out byte-identical the registry stores (and we push) one
    assert result.pushed.layers_pushed in (1, 2), result.pushed
    assert result.pushed.bytes_pushed < 5 * 1024 * 1024
    after = {d.name: d.urls for d in ops.status(target_config, promoted["name"])[0].deployments}
    assert all(after[name] != before[name] for name in before)
    promoted["before_code_change"] = before


def test_rollback_goes_back_to_the_previous_release(promoted: dict[str, Any],
                                                    target_config: str) -> None:
    status = rollback(promoted["name"], target_config, lambda line: None)
    assert status is not None and status.healthy
    now = {d.name: d.urls for d in status.deployments}
    assert now == promoted["before_code_change"]


def test_never_healthy_deployment_keeps_the_previous_release(
        promoted: dict[str, Any], target_config: str) -> None:
    folder = promoted["folder"]
    (folder / "broken.py").write_text("def init():\n    raise RuntimeError('no model')\n\n"
                                      "def run(data):\n    return data\n")
    green = folder / "green.yml"
    spec = yaml.safe_load(green.read_text())
    spec["code_configuration"]["scoring_script"] = "broken.py"
    spec["readiness_probe"]["failure_threshold"] = 2
    green.write_text(yaml.safe_dump(spec))
    before = ops.status(target_config, promoted["name"])[0]
    with pytest.raises(ReadinessTimeout) as failure:
        _promote(folder)
    message = str(failure.value)
    assert "Target 'swarm-test'" in message and "deployment 'green'" in message
    assert "previous release keeps serving" in message
    after = ops.status(target_config, promoted["name"])[0]
    assert [d.urls for d in after.deployments] == [d.urls for d in before.deployments]
    assert after.healthy
    assert burst(promoted["url"], _auth(promoted, **{"azureml-model-deployment": "green"}),
                 3, 1) == [(200, "green")] * 3


def test_down_leaves_nothing(promoted: dict[str, Any], target_config: str,
                             docker_client: Any) -> None:
    ops.down(target_config, promoted["name"], lambda line: None)
    label = {"label": f"devkit.endpoint={promoted['name']}"}
    assert docker_client.services.list(filters=label) == []
    assert docker_client.networks.list(filters=label) == []
    assert docker_client.secrets.list(filters=label) == []
    assert docker_client.configs.list(filters=label) == []
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.volumes.list(filters=label) == []
