"""The worker's event loop: uvloop when importable (an optional speed-up), asyncio when
asked for or when uvloop is missing; the startup log says which one runs. The test extra
installs uvloop, so CI runs the uvloop path; "missing" is made real by blocking its import
(``sys.modules["uvloop"] = None`` is how Python marks a module as not importable)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from devkit_runtime.worker import LOOP_ENV, event_loop
from runtime_server import SCRIPTS, devkit_server

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


@pytest.fixture
def uvloop_installed(require: Callable[[bool, str], None]) -> None:
    require(HAVE_UVLOOP, "uvloop is not installed (the test extra installs it)")


@pytest.fixture
def uvloop_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)


def test_asyncio_when_asked_for() -> None:
    assert event_loop("asyncio") == "asyncio"
    assert event_loop(" AsyncIO ") == "asyncio"


@pytest.mark.parametrize("choice", ["auto", "uvloop", "", "no-such-loop"])
def test_uvloop_when_installed(choice: str, monkeypatch: pytest.MonkeyPatch,
                               uvloop_installed: None) -> None:
    monkeypatch.delenv(LOOP_ENV, raising=False)
    assert event_loop(choice) == "uvloop"


@pytest.mark.parametrize("choice", ["auto", "uvloop", "", "no-such-loop"])
def test_asyncio_when_uvloop_is_missing(choice: str, monkeypatch: pytest.MonkeyPatch,
                                        uvloop_missing: None) -> None:
    monkeypatch.delenv(LOOP_ENV, raising=False)
    assert event_loop(choice) == "asyncio"


def test_the_environment_chooses_by_default(monkeypatch: pytest.MonkeyPatch,
                                            uvloop_installed: None) -> None:
    monkeypatch.setenv(LOOP_ENV, "asyncio")
    assert event_loop() == "asyncio"
    monkeypatch.setenv(LOOP_ENV, "uvloop")
    assert event_loop() == "uvloop"


def test_the_server_logs_its_loop_and_serves_on_it(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env={LOOP_ENV: "asyncio"}) as server:
        assert server.post_json("/score", {"a": 1}).status == 200
        assert "event loop asyncio" in server.log_text()


def test_the_server_runs_on_uvloop_when_installed(tmp_path: Path,
                                                  uvloop_installed: None) -> None:
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env={LOOP_ENV: "uvloop"}) as server:
        assert server.post_json("/score", {"a": 1}).status == 200
        assert "event loop uvloop" in server.log_text()
