"""The runtime's own watcher (DEVKIT_WATCH=1): a save reloads, a broken save keeps the last
good version serving and says where it broke, requests in flight finish, helper modules
beside score.py reload too; with inotify and with the polling fallback."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from devkit_runtime.watch import changed, ignored, scan
from reload_helpers import (
    Server,
    code_folder,
    eventually,
    get_json,
    save,
    set_version,
    watched_server,
)

MODES = {"inotify": {}, "poll": {"DEVKIT_WATCH_POLL": "1", "DEVKIT_WATCH_INTERVAL_MS": "100"}}


@pytest.mark.parametrize("relative", ["__pycache__/score.cpython-311.pyc", "score.pyc",
                                      ".score.py.swp", "score.py~", ".git/index",
                                      "sub/__pycache__/x.py", "#score.py#", ".#score.py", "4913"])
def test_editor_and_cache_files_are_ignored(relative: str) -> None:
    assert ignored(relative)


@pytest.mark.parametrize("relative", ["score.py", "utils/helper.py", "model/config.json",
                                      "swagger2.json"])
def test_code_files_are_watched(relative: str) -> None:
    assert not ignored(relative)


def test_scan_sees_edits_additions_and_deletions(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "gone.py").write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"x")
    before = scan(tmp_path)
    assert sorted(before) == ["a.py", "gone.py"]
    (tmp_path / "a.py").write_text("a = 22\n")
    (tmp_path / "gone.py").unlink()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "new.py").write_text("")
    assert changed(before, scan(tmp_path)) == ["a.py", "gone.py", "pkg/new.py"]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_save_reloads_broken_save_keeps_serving_and_recovers(tmp_path: Path,
                                                             mode: str) -> None:
    code = code_folder(tmp_path)
    script = code / "score.py"
    with watched_server(code, tmp_path, MODES[mode]) as server:
        assert server.version() == 1
        set_version(script, 2)
        eventually(lambda: server.version() == 2, what="version 2 to serve")
        assert "reloaded in" in server.log_text()

        good = script.read_text()
        save(script, good + "\ndef broken(:\n")
        broken_line = len(script.read_text().splitlines())
        ready = eventually(lambda: _failed_reload(server.url), what="the failed reload")
        assert ready["ready"] is True
        assert ready["reload"]["file"] == str(script)
        assert ready["reload"]["line"] == broken_line
        assert "SyntaxError" in ready["reload"]["error"]
        assert server.version() == 2
        eventually(lambda: f"reload failed at {script}:{broken_line}" in server.log_text(),
                   what="the failure line in the log")

        save(script, good.replace("VERSION = 2", "VERSION = 3"))
        eventually(lambda: server.version() == 3, what="recovery to version 3")


def test_raising_init_keeps_the_last_good_version(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    script = code / "score.py"
    with watched_server(code, tmp_path) as server:
        good = script.read_text()
        marker = '    print(f"score_versioned'
        save(script, good.replace(marker, '    raise RuntimeError("no model")\n' + marker))
        ready = eventually(lambda: _failed_reload(server.url), what="the failed reload")
        assert "no model" in ready["reload"]["error"]
        assert ready["reload"]["file"] == str(script)
        assert server.version() == 1


def test_a_helper_module_change_reloads_and_import_errors_are_kept_out(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    with watched_server(code, tmp_path) as server:
        assert server.score()[1]["helper"] == "a"
        save(code / "helper.py", 'VALUE = "b"\n')
        eventually(lambda: server.score()[1]["helper"] == "b", what="the new helper")
        save(code / "helper.py", "import not_a_module_anywhere\nVALUE = 'c'\n")
        ready = eventually(lambda: _failed_reload(server.url), what="the failed reload")
        assert "not_a_module_anywhere" in ready["reload"]["error"]
        assert server.score()[1]["helper"] == "b"


def test_requests_in_flight_finish_on_the_old_version(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    script = code / "score.py"
    answers: list[tuple[int, Any]] = []
    with watched_server(code, tmp_path, {"DEVKIT_RUN_THREADS": "2"}) as server:
        slow = threading.Thread(target=lambda: answers.append(server.score("slow")))
        slow.start()
        eventually(lambda: "slow request started" in server.log_text(), what="the slow one")
        set_version(script, 2)
        eventually(lambda: server.version() == 2, what="version 2 to serve")
        slow.join(timeout=30)
    [(status, answer)] = answers
    assert (status, answer["version"], answer["helper"]) == (200, 1, "a")


def test_every_worker_reloads_on_a_save(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    with watched_server(code, tmp_path, workers=2) as server:
        before = _versions_by_worker(server)
        set_version(code / "score.py", 5)
        eventually(lambda: "generation 2" in server.log_text(), what="the reload")
        after = _versions_by_worker(server)
    assert len(before) == 2 and set().union(*before.values()) == {1}
    assert after.keys() == before.keys()  # the same two workers, reloaded in place
    assert all(versions == {5} for versions in after.values()), after


def _versions_by_worker(server: Any, workers: int = 2) -> dict[int, set[int]]:
    """pid -> versions answered, over fresh connections until every worker answered."""
    seen: dict[int, set[int]] = {}
    for attempt in range(500):
        status, body = server.score()
        assert status == 200, body
        seen.setdefault(body["pid"], set()).add(body["version"])
        if len(seen) == workers and attempt >= 20:
            break
    return seen


def _failed_reload(url: str) -> dict[str, Any] | None:
    status, body = get_json(f"{url}/-/ready")
    reload = body.get("reload") or {}
    return body if reload.get("ok") is False else None


def test_quick_saves_of_the_same_size_each_reload(tmp_path: Path) -> None:
    """Two saves within one second and of equal size must not re-run stale bytecode."""
    code = code_folder(tmp_path)
    script = code / "score.py"
    with watched_server(code, tmp_path) as server:
        for version in range(2, 7):
            set_version(script, version)
            eventually(partial(_serves_version, server, version), what=f"version {version}")
            save(code / "helper.py", f'VALUE = "{version}"\n')
            eventually(partial(_serves_helper, server, str(version)),
                       what=f"helper {version}")


def _serves_version(server: Server, version: int) -> bool:
    return bool(server.version() == version)


def _serves_helper(server: Server, value: str) -> bool:
    return bool(server.score()[1]["helper"] == value)
