"""`devkit debug` on a live deployment, attached by a real DAP client over TCP: the
breakpoint in run() stops the request at the right file and line with its data in the
frame, continuing completes it with 200; the VS Code files parse and map to real paths;
`--off` restores the deployment."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dap import DapClient
from debug_helpers import deployment_url, devkit, line_of, regression_copy
from support.direct import headers_for

from devkit.engines import get_engine

ENGINES = ["process", pytest.param("docker", marks=pytest.mark.docker)]
REQUEST = {"data": [[0.038, 0.05, 0.061, 0.021, -0.044, -0.034, -0.043, -0.002, 0.019,
                     -0.017]]}


@pytest.fixture(params=ENGINES)
def endpoint(request: pytest.FixtureRequest, tmp_path: Path, isolated_state: Path
             ) -> Iterator[tuple[Path, str, str]]:
    engine = str(request.param)
    if engine == "docker":
        request.getfixturevalue("docker_client")
    folder, name = regression_copy(tmp_path / "regression")
    devkit("up", str(folder), "--engine", engine)
    try:
        yield folder, name, engine
    finally:
        devkit("down", name, check=False)


def test_breakpoint_in_run_is_hit_with_the_request_data(endpoint: tuple[Path, str, str]
                                                        ) -> None:
    folder, name, engine = endpoint
    target = json.loads(devkit("debug", name, "-d", "blue", "--json").stdout)
    assert target["host"] == "127.0.0.1"
    assert target["local_root"] == str(folder)
    expected_remote = str(folder) if engine == "process" else "/var/azureml-app/regression"
    assert target["remote_root"] == expected_remote

    script = folder / "score.py"
    line = line_of(script, "rows = np.array(")
    client = DapClient(target["host"], target["port"])
    answers: list[httpx.Response] = []
    try:
        client.attach([{"localRoot": target["local_root"], "remoteRoot": target["remote_root"]}],
                      {str(script): [line]})
        url = deployment_url(name, "blue")
        sender = threading.Thread(target=lambda: answers.append(
            httpx.post(f"{url}/score", json=REQUEST, timeout=120, headers=headers_for(url))))
        sender.start()
        stopped = client.wait_event("stopped", 60)
        assert stopped["reason"] == "breakpoint"
        frame = client.top_frame(stopped["threadId"])
        assert Path(frame["source"]["path"]) == script
        assert frame["line"] == line
        local = client.locals_of(frame["id"])
        assert "0.038" in local["raw_data"] and '"data"' in local["raw_data"]
        client.request("continue", {"threadId": stopped["threadId"]})
        sender.join(60)
    finally:
        client.close()
    assert [a.status_code for a in answers] == [200]
    assert len(answers[0].json()) == 1

    _check_vscode_files(folder, name, target)
    devkit("debug", name, "-d", "blue", "--off")
    # Off again, the replica is reachable from the host no more (docker): ask its engine.
    engine_of = get_engine(engine)
    [replica] = engine_of.replicas(name, "blue")
    ready = json.loads(engine_of.readiness_answer(replica, 10))
    assert ready["ready"] and "debugger" not in ready


def _check_vscode_files(folder: Path, name: str, target: dict[str, Any]) -> None:
    launch = json.loads((folder / ".vscode" / "launch.json").read_text())
    config = next(c for c in launch["configurations"]
                  if c["name"] == f"devkit: attach {name}/blue")
    assert config["request"] == "attach" and config["type"] == "debugpy"
    assert config["connect"] == {"host": "127.0.0.1", "port": target["port"]}
    mapping = config["pathMappings"][0]
    assert (Path(mapping["localRoot"]) / "score.py").is_file()
    assert mapping["remoteRoot"] == target["remote_root"]
    container = json.loads((folder / ".devcontainer" / "devcontainer.json").read_text())
    assert container["workspaceFolder"] == "/var/azureml-app/regression"
    assert "ms-python.debugpy" in container["customizations"]["vscode"]["extensions"]
    assert container["containerEnv"]["AZUREML_ENTRY_SCRIPT"] == "score.py"
    model_mount = container["mounts"][0]
    assert Path(model_mount.split(",")[0].removeprefix("source=")).is_dir()
