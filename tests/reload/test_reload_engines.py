"""Hot reload of a running endpoint, after `devkit up` returned: a save of score.py is
served by the next responses, a broken save keeps serving and `devkit reload` names the
file and line, the next good save recovers; an environment change is flagged as "needs a
rebuild" by `status` and `reload`, never silently ignored; `up --no-watch` turns it off."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from reload_helpers import eventually, post, save

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "debug"))
from debug_helpers import deployment_url, devkit, regression_copy  # noqa: E402

ENGINES = ["process", pytest.param("docker", marks=pytest.mark.docker)]
REQUEST = json.dumps({"data": [[0.0] * 10]})


def expose(engine: str) -> list[str]:
    """These tests call each deployment's replica directly (``status`` URLs): on docker
    that needs ``--expose`` (by default only the router is reachable from the host)."""
    return ["--expose"] if engine == "docker" else []


@pytest.fixture(params=ENGINES)
def endpoint(request: pytest.FixtureRequest, tmp_path: Path, isolated_state: Path
             ) -> Iterator[tuple[Path, str]]:
    engine = str(request.param)
    if engine == "docker":
        request.getfixturevalue("docker_client")
    folder, name = regression_copy(tmp_path / "regression")
    devkit("up", str(folder), "--engine", engine, *expose(engine))
    try:
        yield folder, name
    finally:
        devkit("down", name, check=False)


def _marked(script: Path, marker: str) -> str:
    return script.read_text().replace("    return predictions.tolist()",
                                      f"    return {{'marker': {marker!r}}}")


def test_save_reloads_bad_save_is_reported_and_recovers(endpoint: tuple[Path, str]) -> None:
    folder, name = endpoint
    script = folder / "score.py"
    original = script.read_text()
    url = f"{deployment_url(name, 'blue')}/score"
    assert isinstance(post(url, REQUEST)[1], list)

    save(script, _marked(script, "v2"))
    eventually(lambda: post(url, REQUEST)[1] == {"marker": "v2"}, what="v2 served")
    shown = devkit("reload", name, "--last").stdout
    assert "reloaded blue-0" in shown or "reloaded blue in" in shown

    save(script, original + "\ndef broken(:\n")
    line = len(script.read_text().splitlines())
    eventually(lambda: "failed" in devkit("reload", name, "--last", check=False).stdout,
               what="the failed reload")
    failed = devkit("reload", name, "--last", check=False).stdout
    assert f"{script}:{line}" in failed and "SyntaxError" in failed
    assert post(url, REQUEST)[1] == {"marker": "v2"}
    explicit = devkit("reload", name, check=False)
    assert explicit.returncode == 3 and f"{script}:{line}" in explicit.stderr

    save(script, _marked(script.with_name("score.py"), "v3").replace("\ndef broken(:\n", ""))
    eventually(lambda: post(url, REQUEST)[1] == {"marker": "v3"}, what="recovery to v3")
    assert "reloaded blue in" in devkit("reload", name).stdout


def test_environment_change_is_flagged_for_rebuild(endpoint: tuple[Path, str]) -> None:
    folder, name = endpoint
    assert "needs a rebuild" not in devkit("status", name).stdout
    conda = folder / "environment" / "conda.yml"
    conda.write_text(conda.read_text().replace("      - joblib\n",
                                               "      - joblib\n      - six\n"))
    status = devkit("status", name).stdout
    assert f"{name}/blue needs a rebuild" in status
    listed = json.loads(devkit("status", name, "--json").stdout)[0]
    assert listed["needs_rebuild"] == ["blue"]
    assert "blue needs a rebuild" in devkit("reload", name).stdout
