"""``python -m devkit.autoscale ENDPOINT --engine docker|process``: the endpoint's
autoscaling loop, as ``devkit up`` starts it (:mod:`devkit.autoscale.daemon`). It reads
the spec ``up`` recorded, runs until SIGTERM (``up`` and ``down`` send it) or until the
endpoint's router is gone for good, and logs one line per decision and action."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime, timezone

from devkit.engines import ENGINES, get_engine
from devkit.engines.settings import ReplicaRun
from devkit.errors import DevkitError
from devkit.reload import recall_settings, recall_spec
from devkit.secrets import delivery


def say(message: str) -> None:
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    print(f"{stamp} {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.autoscale")
    parser.add_argument("endpoint")
    parser.add_argument("--engine", choices=sorted(ENGINES), required=True)
    args = parser.parse_args(argv)
    from devkit.autoscale.loop import Autoscaler

    try:
        endpoint = recall_spec(args.endpoint)
        if endpoint is None:
            say(f"no recorded spec for endpoint '{args.endpoint}'; run `devkit up` again")
            return 2
        engine = get_engine(args.engine)
    except DevkitError as exc:
        say(f"cannot start: {exc}")
        return 2
    settings = recall_settings(args.endpoint)

    def run_for(deployment: str) -> ReplicaRun:
        # A new replica gets the secrets file its siblings got at `up` (never resolved here).
        secrets = delivery.secrets_file(args.endpoint, deployment)
        return ReplicaRun(settings.watch, None, str(secrets) if secrets.is_file() else None)

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    scaler = Autoscaler(endpoint, engine, run_for, say, stopping)
    if not scaler.watches:
        say(f"endpoint '{args.endpoint}' has no target_utilization deployment; nothing to do")
        return 0
    for name, watch in scaler.watches.items():
        p = watch.policy
        say(f"{name}: autoscaling {p.floor}..{p.max_instances} replicas at "
            f"{p.target_percent}% target utilization, polling every "
            f"{watch.spec.scale_settings.polling_interval} s, scale-in window "
            f"{p.scale_in_window_s:g} s (engine {args.engine})")
    scaler.run()
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
