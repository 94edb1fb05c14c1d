"""The per-endpoint lock: a second command waits for the first and says for whom, a
holder killed with SIGKILL leaves no stale lock, and ``down``'s removal of the lock file
cannot let two holders in."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devkit.engines.lock import endpoint_lock, lock_path

HOLD = """
import sys, time
from devkit.engines.lock import endpoint_lock
name, command, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with endpoint_lock(name, command, remove=command == "down"):
    print("held", flush=True)
    time.sleep(seconds)
"""


def hold(name: str, command: str = "up", seconds: float = 60) -> subprocess.Popen[str]:
    """A process holding the lock (``down`` removes the file on release)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, name, command, str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def stop(holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait()
    assert holder.stdout is not None
    holder.stdout.close()


def test_a_second_command_waits_says_for_whom_and_gets_it_when_the_holder_dies(
        isolated_state: Path) -> None:
    holder = hold("ep")
    said: list[str] = []
    got = threading.Event()

    def second() -> None:
        with endpoint_lock("ep", "up", said.append):
            got.set()

    thread = threading.Thread(target=second, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.02)
        assert said == [f"waiting for another `devkit up` of ep (pid {holder.pid}) to finish"]
        assert not got.is_set()
        holder.send_signal(signal.SIGKILL)  # an interrupted `up`: the kernel drops its lock
        assert got.wait(10)
    finally:
        stop(holder)
    thread.join(5)


def test_the_lock_is_reentrant_in_one_thread_and_down_removes_its_file(
        isolated_state: Path) -> None:
    with endpoint_lock("ep", "up"), endpoint_lock("ep", "down", remove=True):
        assert lock_path("ep").exists()
    assert lock_path("ep").exists()  # the outer holder decides: it did not ask to remove
    with endpoint_lock("ep", "down", remove=True):
        pass
    assert not lock_path("ep").exists() and not lock_path("ep").parent.exists()


def test_a_waiter_on_a_removed_lock_file_takes_the_new_one(isolated_state: Path) -> None:
    down = hold("ep", "down", seconds=0.5)  # removes the file as it releases it
    try:
        with endpoint_lock("ep", "up"):
            assert lock_path("ep").exists()  # the file the path names now ...
            late = subprocess.Popen([sys.executable, "-c", HOLD, "ep", "up", "0"],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            assert late.poll() is None  # ... is the one held: a newcomer waits
        assert late.wait(10) == 0
        assert late.stdout is not None and late.stdout.read().strip() == "held"
        late.stdout.close()
    finally:
        stop(down)
