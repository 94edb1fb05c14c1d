"""The pod-level front end (guard.py): a real server process on loopback, configured only by
environment and a folder of key files, as the Kubernetes target configures each pod."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from devkit_runtime.config import ConfigError
from devkit_runtime.guard import Credentials, GuardConfig
from devkit_runtime.router.auth import sign_token
from runtime_server import SCRIPTS, Reply, devkit_server


def _key_dir(tmp_path: Path, primary: str = "k-primary", secondary: str = "k-second") -> Path:
    folder = tmp_path / "auth"
    folder.mkdir()
    (folder / "primary").write_text(primary)
    (folder / "secondary").write_text(secondary)
    (folder / "token-secret").write_text("signing-secret")
    return folder


def _env(folder: Path, mode: str = "key", **extra: str) -> dict[str, str]:
    return {"DEVKIT_AUTH_MODE": mode, "DEVKIT_AUTH_DIR": str(folder),
            "DEVKIT_ENDPOINT": "guarded", **extra}


def test_keys_are_checked_on_score_and_probes_stay_open(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path,
                       env=_env(_key_dir(tmp_path))) as server:
        missing = server.request("POST", "/score", "x")
        assert missing.status == 401
        assert "Missing credentials" in missing.json()["message"]
        wrong = server.request("POST", "/score", "x", {"Authorization": "Bearer nope"})
        assert wrong.status == 401
        assert server.request("GET", "/swagger.json").status == 401
        for key in ("k-primary", "k-second"):
            ok = server.request("POST", "/score", "x", {"Authorization": f"Bearer {key}"})
            assert ok.status == 200 and ok.json() == {"echo": "x"}
        for probe in ("/", "/-/live", "/-/ready", "/metrics"):
            assert server.request("GET", probe).status == 200, probe


def test_a_key_folder_without_keys_refuses_every_call(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env=_env(empty)) as server:
        assert server.request("POST", "/score", "x", {"Authorization": "Bearer "}).status == 401
        assert server.request("POST", "/score", "x",
                              {"Authorization": "Bearer anything"}).status == 401


def test_tokens_signed_with_the_secret_for_this_endpoint_pass(tmp_path: Path) -> None:
    folder = _key_dir(tmp_path)
    good = sign_token(b"signing-secret", "guarded", int(time.time()) + 60)
    other = sign_token(b"signing-secret", "another", int(time.time()) + 60)
    forged = sign_token(b"not-the-secret", "guarded", int(time.time()) + 60)
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path,
                       env=_env(folder, "aml_token")) as server:
        assert server.request("POST", "/score", "x",
                              {"Authorization": f"Bearer {good}"}).status == 200
        for token in (other, forged, "k-primary"):
            reply = server.request("POST", "/score", "x", {"Authorization": f"Bearer {token}"})
            assert reply.status == 401, token


def test_over_the_in_flight_limit_is_429_and_a_slow_answer_is_408(tmp_path: Path) -> None:
    env = _env(_key_dir(tmp_path), DEVKIT_MAX_IN_FLIGHT="1", DEVKIT_REQUEST_TIMEOUT_MS="3000",
               SCORING_TIMEOUT_MS="20000", DEVKIT_RUN_THREADS="2")
    auth = {"Authorization": "Bearer k-primary"}
    with devkit_server(SCRIPTS / "score_hang.py", tmp_path, env=env) as server:
        hung: list[Reply] = []
        thread = threading.Thread(
            target=lambda: hung.append(server.request("POST", "/score", "hang", auth)))
        thread.start()
        _wait_in_flight(server, thread)
        refused = server.request("POST", "/score", "quick", auth)
        thread.join(timeout=20)
        assert refused.status == 429
        assert "limit 1" in refused.json()["message"]
        assert hung[0].status == 408
        assert "request_timeout_ms (3000 ms)" in hung[0].json()["message"]
        # The slot is free again once the timed-out request was answered.
        assert server.request("POST", "/score", "quick", auth).json() == {"ok": "quick"}


def _wait_in_flight(server: object, hung: threading.Thread) -> None:
    """Until the server answers the hung request (its /metrics gauge counts it, plus the
    /metrics request itself): from then on it holds the only slot until its 408."""
    while hung.is_alive():
        text = server.request("GET", "/metrics").body.decode()  # type: ignore[attr-defined]
        gauge = next(line for line in text.splitlines()
                     if line.startswith("devkit_requests_in_flight{"))
        if int(gauge.rsplit(" ", 1)[1]) >= 2:
            return
    raise AssertionError("the hung request was answered before it was seen in flight")


def test_a_rotated_key_file_takes_effect_after_the_refresh(tmp_path: Path) -> None:
    folder = _key_dir(tmp_path)
    now = [0.0]
    credentials = Credentials(GuardConfig("key", str(folder), "guarded"), lambda: now[0])
    assert credentials.authenticator().check("Bearer k-primary") == ""
    (folder / "primary").write_text("k-rotated")
    now[0] = 5.0  # within the refresh interval: the old key still counts
    assert credentials.authenticator().check("Bearer k-primary") == ""
    now[0] = 11.0
    assert credentials.authenticator().check("Bearer k-primary") != ""
    assert credentials.authenticator().check("Bearer k-rotated") == ""


def test_bad_settings_are_refused_with_the_variable_named() -> None:
    assert GuardConfig.from_env({}) is None
    with pytest.raises(ConfigError, match="DEVKIT_AUTH_MODE='keys'"):
        GuardConfig.from_env({"DEVKIT_AUTH_MODE": "keys"})
    with pytest.raises(ConfigError, match="needs DEVKIT_AUTH_DIR"):
        GuardConfig.from_env({"DEVKIT_AUTH_MODE": "key"})
    with pytest.raises(ConfigError, match="DEVKIT_MAX_IN_FLIGHT"):
        GuardConfig.from_env({"DEVKIT_MAX_IN_FLIGHT": "ten"})
