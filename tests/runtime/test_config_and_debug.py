"""ServerConfig from env and flags (both flag spellings), and the debugpy hook."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from devkit_runtime import debug
from devkit_runtime.config import ConfigError, ServerConfig
from runtime_server import SCRIPTS, devkit_server, find_free_port


def test_env_follows_azmlinfsrv_names() -> None:
    config = ServerConfig.from_env({
        "AML_APP_ROOT": "/app", "AZUREML_ENTRY_SCRIPT": "src/score.py",
        "AZUREML_MODEL_DIR": "/models/m", "SERVER_PORT": "6001", "WORKER_COUNT": "3",
        "SCORING_TIMEOUT_MS": "250", "AML_CORS_ORIGINS": "a, b", "AZUREML_DEBUG_PORT": "5678",
        "DEVKIT_MAX_BODY_BYTES": "10", "DEVKIT_ADMIN_PORT": "7001"})
    assert config.entry_script == "/app/src/score.py"
    assert (config.port, config.workers, config.scoring_timeout_ms) == (6001, 3, 250)
    assert config.cors_origins == ("a", "b")
    assert (config.debug_port, config.admin_port, config.max_body_bytes) == (5678, 7001, 10)
    assert config.effective_workers() == 1  # debugging forces one worker
    assert ServerConfig.from_json(config.to_json()) == config


def test_flags_override_env_in_both_spellings() -> None:
    env = {"SERVER_PORT": "6001", "WORKER_COUNT": "3"}
    underscore = ServerConfig.from_args(["--entry_script", "s.py", "--model_dir", "m",
                                         "--worker_count", "2", "--port", "7"], env)
    dashed = ServerConfig.from_args(["--entry-script", "s.py", "--model-dir", "m",
                                     "--workers", "2", "--port", "7"], env)
    assert underscore == dashed
    assert (underscore.workers, underscore.port, underscore.model_dir) == (2, 7, "m")
    assert underscore.host == "127.0.0.1"


def test_missing_script_and_bad_numbers_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="AZUREML_ENTRY_SCRIPT"):
        ServerConfig.from_args([], {})
    with pytest.raises(ConfigError, match="WORKER_COUNT='two'"):
        ServerConfig.from_env({"WORKER_COUNT": "two"})


def test_debug_port_without_debugpy_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "debugpy", None)
    config = ServerConfig(entry_script="s.py", debug_port=5678)
    with pytest.raises(debug.DebuggerUnavailable, match="pip install debugpy"):
        debug.check(config)


def test_debug_port_listens_and_forces_one_worker(tmp_path: Path) -> None:
    port = find_free_port()
    env = {"DEVKIT_DEBUG_PORT": str(port)}
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, workers=3, env=env) as server:
        assert server.request("POST", "/score", "x").status == 200
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, server.log_text()
                time.sleep(0.1)
        log = server.log_text()
    assert f"debugpy listening on 127.0.0.1:{port}" in log
    assert "1 worker(s)" in log
