"""`devkit debug --wait` as a user runs it: it prints how to attach, blocks while no
debugger is attached, and returns 0 once a DAP client attaches."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from dap import DapClient
from debug_helpers import devkit, regression_copy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reload"))
from reload_helpers import eventually  # noqa: E402

ENGINES = ["process", pytest.param("docker", marks=pytest.mark.docker)]
LISTENING = re.compile(r"listening for a debugger on (127\.0\.0\.1):(\d+)")
MAPPING = re.compile(r"pathMappings (\S+) -> (\S+)\.")
STILL_WAITING_S = 1.5  # several of its polls of /-/ready: long enough to have returned


@pytest.fixture(params=ENGINES)
def endpoint(request: pytest.FixtureRequest, tmp_path: Path, isolated_state: Path
             ) -> Iterator[tuple[Path, str]]:
    if request.param == "docker":
        request.getfixturevalue("docker_client")
    folder, name = regression_copy(tmp_path / "regression")
    devkit("up", str(folder), "--engine", str(request.param))
    try:
        yield folder, name
    finally:
        devkit("down", name, check=False)


def _collect(stream: IO[str], into: list[str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.extend(iter(stream.readline, "")),
                              daemon=True)
    thread.start()
    return thread


def test_wait_blocks_until_a_debugger_attaches(endpoint: tuple[Path, str]) -> None:
    folder, name = endpoint
    argv = [sys.executable, "-m", "devkit.cli.main", "debug", name, "-d", "blue", "--wait"]
    out: list[str] = []
    err: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as command:
        assert command.stdout is not None and command.stderr is not None
        readers = [_collect(command.stdout, out), _collect(command.stderr, err)]
        try:
            _attach_while_waiting(command, folder, out, err)
        finally:
            if command.poll() is None:
                command.kill()
            command.wait()
            for reader in readers:
                reader.join(10)
    assert command.returncode == 0, "".join(out + err)
    assert any("debugger attached" in line for line in err)


def _attach_while_waiting(command: subprocess.Popen[str], folder: Path, out: list[str],
                          err: list[str]) -> None:
    eventually(lambda: any("waiting for a debugger" in line for line in err)
               or command.poll() is not None, 300, "`devkit debug --wait` to wait")
    with contextlib.suppress(subprocess.TimeoutExpired):
        command.wait(timeout=STILL_WAITING_S)
    assert command.poll() is None, "".join(out + err)  # blocking, not finished
    listening, mapping = LISTENING.search("".join(out)), MAPPING.search("".join(out))
    assert listening and mapping, "".join(out)
    assert mapping.group(1) == str(folder)
    assert (folder / ".vscode" / "launch.json").is_file()
    client = DapClient(listening.group(1), int(listening.group(2)))
    try:
        client.attach([{"localRoot": mapping.group(1), "remoteRoot": mapping.group(2)}], {})
        command.wait(timeout=60)
    finally:
        client.close()
