"""Helpers of the fault suite (tests/faults/): wait for a condition, read the router's
view of replica health, and record one row of the reliability table per case.

``report`` prints ``REL|{json}`` (visible with ``pytest -s``) and appends the row to
``$DEVKIT_FAULT_REPORT`` when set; ``python -m support.faults FILE`` (run from tests/)
renders those rows as RELIABILITY.md's table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def until(condition: Callable[[], Any], timeout: float, what: str,
          interval: float = 0.1) -> float:
    """Wait until ``condition()`` is truthy; the seconds it took. AssertionError naming
    ``what`` past ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except (httpx.HTTPError, OSError, KeyError, ValueError):
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


def router_health(scoring_uri: str) -> dict[str, list[dict[str, Any]]]:
    """The router's ``/-/health.json`` deployments (the router serves it beside /score)."""
    base = scoring_uri.rsplit("/score", 1)[0]
    found: dict[str, list[dict[str, Any]]] = httpx.get(f"{base}/-/health.json",
                                                       timeout=5).json()["deployments"]
    return found


def ready_count(scoring_uri: str, deployment: str) -> int:
    return sum(1 for r in router_health(scoring_uri).get(deployment, []) if r["ready"])


def report(engine: str, case: str, failed: int, total: int, heal_s: float | None,
           status_said: str) -> dict[str, Any]:
    """One row of the reliability table: printed, and appended to the report file."""
    row = {"engine": engine, "case": case, "failed": failed, "total": total,
           "heal_s": None if heal_s is None else round(heal_s, 2), "status": status_said}
    print(f"\nREL|{json.dumps(row)}")
    target = os.environ.get("DEVKIT_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
    return row


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| case | failed / total requests | time to heal | what `status` said |",
             "|---|---|---|---|"]
    for row in rows:
        heal = "does not heal by itself" if row["heal_s"] is None else f"{row['heal_s']} s"
        said = str(row["status"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {row['case']} | {row['failed']} / {row['total']} | {heal} | "
                     f"{said} |")
    return "\n".join(lines)


if __name__ == "__main__":
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line]
    engine = sys.argv[2] if len(sys.argv) > 2 else None
    print(table([r for r in rows if engine is None or r["engine"] == engine]))
