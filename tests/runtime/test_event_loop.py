"""The worker's event loop: uvloop when importable (an optional speed-up), asyncio when
asked for or when uvloop is missing; the startup log says which one runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from devkit_runtime.worker import LOOP_ENV, event_loop
from runtime_server import SCRIPTS, devkit_server

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_asyncio_when_asked_for() -> None:
    assert event_loop("asyncio") == "asyncio"
    assert event_loop(" AsyncIO ") == "asyncio"


@pytest.mark.parametrize("choice", ["auto", "uvloop", "", "no-such-loop"])
def test_uvloop_only_when_importable(choice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOOP_ENV, raising=False)
    assert event_loop(choice) == ("uvloop" if HAVE_UVLOOP else "asyncio")


def test_the_environment_chooses_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOP_ENV, "asyncio")
    assert event_loop() == "asyncio"


def test_the_server_logs_its_loop_and_serves_on_it(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env={LOOP_ENV: "asyncio"}) as server:
        assert server.post_json("/score", {"a": 1}).status == 200
        assert "event loop asyncio" in server.log_text()


@pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is optional and not installed here")
def test_the_server_runs_on_uvloop_when_installed(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env={LOOP_ENV: "uvloop"}) as server:
        assert server.post_json("/score", {"a": 1}).status == 200
        assert "event loop uvloop" in server.log_text()
