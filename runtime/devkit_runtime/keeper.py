"""``python -m devkit_runtime.keeper --status FILE -- COMMAND...``: a restart policy for
one host process, what Docker's ``restart_policy`` is for a container.

Why it exists: the process engine's replicas and router must keep serving after the CLI
exited, so nothing of devkit's is around when one of them dies. The keeper is the tiny
parent that is: it runs COMMAND (a replica's supervisor, or the endpoint's router), and
when it exits for any reason but a stop, starts it again after a pause that doubles from
0.5 s up to 30 s (reset once the command stayed up 10 s), counting restarts. It records
in FILE (JSON) the child's pid, the restart count and how the last run ended (exit code or
signal; an unexplained SIGKILL as "possibly out of memory"), which ``devkit status``
reads. SIGTERM/SIGINT stop it: the child gets SIGTERM, then SIGKILL after ``--grace``.

The child dies with the keeper (the keeper sets ``PR_SET_PDEATHSIG`` for it between fork
and exec, whatever the command: a supervisor or a router), so a replica's processes live
and die together. It is kept
minimal on purpose and lives in the runtime because it runs from the deployment's venv.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

from devkit_runtime import lifeline

FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 30.0
STABLE_S = 10.0  # a child up this long is healthy again: the pause starts over


class Keeper:
    def __init__(self, command: list[str], status: str, grace: float, name: str) -> None:
        self.command = command
        self.name = name
        self.status_path = status
        self.grace = grace
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None
        self.record: dict[str, Any] = {"keeper_pid": os.getpid(), "child_pid": None,
                                       "restarts": 0, "last_exit": None,
                                       "last_exit_code": None, "oom_suspected": False,
                                       "state": "starting"}

    def stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        pause = FIRST_PAUSE_S
        me = os.getpid()
        lifeline.libc()  # loaded here: between fork and exec the child only calls prctl
        while not self.stopping:
            started = time.monotonic()
            env = dict(os.environ, DEVKIT_KEEPER_PID=str(me))
            self.child = subprocess.Popen(self.command, env=env,
                                          preexec_fn=lambda: lifeline.die_with_parent(me))
            self.save(state="running", child_pid=self.child.pid)
            code = self.child.wait()
            if self.stopping:
                break
            uptime = time.monotonic() - started
            pause = FIRST_PAUSE_S if uptime >= STABLE_S else pause
            self.exited(code, uptime, pause)
            self._sleep(pause)
            pause = min(MAX_PAUSE_S, pause * 2)
        self.save(state="stopped")
        return 0

    def exited(self, code: int, uptime: float, pause: float) -> None:
        text, oom = lifeline.describe_exit(code)
        restarts = int(self.record["restarts"]) + 1
        self.save(state="restarting", restarts=restarts, last_exit=text, last_exit_code=code,
                  oom_suspected=oom, last_exit_at=time.time())
        print(f"devkit-keeper: {self.name} (pid {self.child.pid if self.child else '?'}) {text} "
              f"after {uptime:.1f} s; restarting it in {pause:.1f} s (restart {restarts})",
              file=sys.stderr, flush=True)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.05)

    def save(self, **changes: Any) -> None:
        self.record.update(changes)
        lifeline.write_json(self.status_path, self.record)

    def finish(self) -> None:
        """After a stop: give the child ``grace`` seconds, then SIGKILL it."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        try:
            child.wait(self.grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devkit_runtime.keeper",
                                     description="Run COMMAND, restarting it when it exits.")
    parser.add_argument("--status", required=True, help="JSON file the keeper keeps current")
    parser.add_argument("--grace", type=float, default=40.0,
                        help="seconds a stopping child gets before SIGKILL")
    parser.add_argument("--name", default="server", help="what the log lines call COMMAND")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no COMMAND given after --")
    keeper = Keeper(command, args.status, args.grace, args.name)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, keeper.stop)
    try:
        code = keeper.run()
    finally:
        keeper.finish()
    sys.exit(code)


if __name__ == "__main__":
    main()
