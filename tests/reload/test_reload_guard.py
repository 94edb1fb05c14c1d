"""The reload loop guard: an init() that writes into the code folder must not make every
reload cause the next one. The guard's rules on their own, then the real watcher on a real
folder (inotify and polling), then the runtime serving a score.py that writes in init()."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from devkit_runtime.watch import MAX_FOLLOW_UPS, CodeWatcher, EchoGuard
from reload_helpers import SCRIPTS, eventually, get_json, save, set_version, watched_server

SIG_A = (1, 10, 7)
SIG_B = (2, 10, 7)
QUIET_S = 1.0  # several debounce periods and poll intervals with nothing happening


# -- the rules ---------------------------------------------------------------------------

def test_a_file_written_by_two_reloads_in_a_row_becomes_an_echo() -> None:
    guard = EchoGuard()
    guard.begin({"score.py"})
    assert guard.end({"cache.txt": SIG_A}, {"cache.txt"}) == (set(), "")  # may be a save
    guard.begin({"cache.txt"})
    assert guard.chain == 1
    assert guard.end({"cache.txt": SIG_B}, {"cache.txt"}) == ({"cache.txt"}, "echo")
    guard.begin({"score.py"})
    assert guard.chain == 0
    assert guard.end({"cache.txt": SIG_A}, {"cache.txt"}) == ({"cache.txt"}, "")


def test_a_save_reloading_a_file_the_last_reload_wrote_learns_the_echo() -> None:
    guard = EchoGuard()
    guard.begin({"cache.txt"})  # e.g. the first init()'s write, seen at startup
    guard.end({"cache.txt": SIG_A}, set())
    guard.begin({"cache.txt", "score.py"})  # that late report, and a save
    assert guard.chain == 0
    assert guard.end({"cache.txt": SIG_B}, {"cache.txt"}) == ({"cache.txt"}, "echo")


def test_a_late_report_of_the_reloads_own_write_is_judged_like_one() -> None:
    guard = EchoGuard()
    guard.echoes.add("cache.txt")
    guard.begin({"score.py"})
    guard.end({"cache.txt": SIG_A}, set())
    assert guard.admit("cache.txt", SIG_A) == "known"
    assert guard.admit("cache.txt", SIG_B) == ""  # edited by hand since: a save
    assert guard.admit("score.py", SIG_A) == ""


def test_new_files_on_every_reload_stop_after_the_follow_up_cap() -> None:
    guard = EchoGuard()
    guard.begin({"score.py"})
    for n in range(MAX_FOLLOW_UPS):
        assert guard.end({f"new-{n}": SIG_A}, {f"new-{n}"}) == (set(), "")
        guard.begin({f"new-{n}"})
    assert guard.end({"new-x": SIG_A}, {"new-x"}) == ({"new-x"}, "loop")


def test_a_save_during_a_reload_still_reloads() -> None:
    guard = EchoGuard()
    guard.begin({"score.py"})
    assert guard.end({"cache.txt": SIG_A, "helper.py": SIG_A},
                     {"cache.txt", "helper.py"}) == (set(), "")
    guard.begin({"cache.txt", "helper.py"})
    # The follow-up wrote cache.txt again (an echo), not helper.py: helper.py was a save.
    assert guard.end({"cache.txt": SIG_B}, {"cache.txt"}) == ({"cache.txt"}, "echo")
    assert guard.echoes == {"cache.txt"}


# -- the real watcher on a real folder -------------------------------------------------------

Writer = Callable[[Path, int], None]


def _rewrite_cache(root: Path, n: int) -> None:
    (root / "cache.txt").write_text(f"reload {n}\n")


def _new_file(root: Path, n: int) -> None:
    (root / f"cache-{n}.txt").write_text("x\n")


async def _watch(root: Path, writer: Writer, poll: bool,
                 scenario: Callable[[list[int]], Awaitable[None]]) -> list[int]:
    """Run ``scenario`` against a CodeWatcher whose reload calls ``writer`` like init()."""
    reloads: list[int] = []

    async def reload() -> dict[str, Any]:
        reloads.append(len(reloads) + 1)
        writer(root, len(reloads))
        await asyncio.sleep(0.01)  # init() takes a moment; writes land mid-reload
        return {"ok": True, "generation": len(reloads) + 1}

    watcher = CodeWatcher(root, reload, poll=poll, interval_s=0.05)
    await watcher.start()
    try:
        await scenario(reloads)
    finally:
        await watcher.stop()
    return reloads


async def _settled(reloads: list[int], at_least: int) -> int:
    """The reload count once ``at_least`` happened and then nothing for QUIET_S."""
    deadline = time.monotonic() + 20
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(reloads) != seen:
            seen, quiet_since = len(reloads), time.monotonic()
        elif seen >= at_least and time.monotonic() - quiet_since > QUIET_S:
            return seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"reloads never settled: {len(reloads)}")


@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "poll"])
def test_init_rewriting_a_file_costs_one_extra_reload_once(tmp_path: Path, poll: bool
                                                           ) -> None:
    (tmp_path / "score.py").write_text("VERSION = 1\n")
    counts: list[int] = []

    async def scenario(reloads: list[int]) -> None:
        save(tmp_path / "score.py", "VERSION = 2\n")
        counts.append(await _settled(reloads, 1))  # the save, then the follow-up
        save(tmp_path / "score.py", "VERSION = 3\n")
        counts.append(await _settled(reloads, counts[-1] + 1))  # cache.txt is an echo now
        save(tmp_path / "cache.txt", "edited by hand\n")
        counts.append(await _settled(reloads, counts[-1] + 1))  # a hand edit still counts

    asyncio.run(_watch(tmp_path, _rewrite_cache, poll, scenario))
    assert counts == [2, 3, 4]


@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "poll"])
def test_init_writing_new_files_stops_at_the_cap(tmp_path: Path, poll: bool) -> None:
    (tmp_path / "score.py").write_text("VERSION = 1\n")
    counts: list[int] = []

    async def scenario(reloads: list[int]) -> None:
        save(tmp_path / "score.py", "VERSION = 2\n")
        counts.append(await _settled(reloads, 1))
        save(tmp_path / "score.py", "VERSION = 3\n")  # a later save reloads again
        counts.append(await _settled(reloads, counts[-1] + 1))

    asyncio.run(_watch(tmp_path, _new_file, poll, scenario))
    per_save = 1 + MAX_FOLLOW_UPS
    assert counts == [per_save, 2 * per_save]


# -- the runtime serving a score.py that writes in init() ------------------------------------

MODES = {"inotify": {}, "poll": {"DEVKIT_WATCH_POLL": "1", "DEVKIT_WATCH_INTERVAL_MS": "50"}}


def _generation(url: str) -> int:
    reload = get_json(f"{url}/-/ready")[1].get("reload") or {}
    return int(reload.get("generation") or 1)


def _settled_generation(url: str, at_least: int) -> int:
    seen: list[int] = []

    def steady() -> int | None:
        seen.append(_generation(url))
        recent = seen[-int(QUIET_S / 0.05):]
        if seen[-1] >= at_least and len(recent) == int(QUIET_S / 0.05) \
                and len(set(recent)) == 1:
            return seen[-1]
        return None

    found: int = eventually(steady, 30, f"the generation to settle at >= {at_least}")
    return found


@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_score_py_writing_in_init_does_not_reload_forever(tmp_path: Path, mode: str
                                                             ) -> None:
    code = tmp_path / "code"
    code.mkdir()
    script = code / "score.py"
    script.write_text((SCRIPTS / "score_writes_in_init.py").read_text())
    with watched_server(code, tmp_path, MODES[mode]) as server:
        assert (code / "cache.txt").is_file()  # written by the first init()
        # The watcher may or may not have seen that first write (it starts beside init()).
        started = _settled_generation(server.url, 1)
        set_version(script, 2)
        eventually(lambda: server.version() == 2, what="version 2")
        learned = _settled_generation(server.url, started + 1)
        assert learned <= started + 2  # the save, and at most one follow-up
        assert "cache.txt changed again while the scoring script reloaded" in server.log_text()
        set_version(script, 3)
        eventually(lambda: server.version() == 3, what="version 3")
        assert _settled_generation(server.url, learned + 1) == learned + 1  # echo known
