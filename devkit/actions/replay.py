"""``replay``: send recorded requests to a deployment and to the one it would replace,
compare the answers with the rules of the router's shadow diff, before the candidate
gets any live traffic.

Recorded requests come from a file or a folder (searched recursively, in name order):

- ``*.jsonl``: one request per line. A data-collection event (CONTRACT.md §7: ``data`` is
  the payload, ``xrequestid`` / ``id`` name it) sends its ``data`` (a string as is, any
  other JSON value serialised); a line without ``data`` is itself the body;
- any other file: its bytes are one request body (a folder of request files).

Each request goes through the endpoint's router pinned with the
``azureml-model-deployment`` header (so it is never mirrored and never moves the live
split), first to ``against`` then to ``deployment``, at most ``rate`` requests per second.
The report has the shape of one pair of ``/-/shadow.json``, so ``devkit compare``'s
rendering and thresholds read it the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from devkit_runtime.router.diff import Answer, Tolerance, compare
from devkit_runtime.router.proxy import DEPLOYMENT_HEADER, ERROR_STATUS
from devkit_runtime.router.shadow import ROUTER_FAILURES, PairStats

from devkit.actions.router_view import RouterView
from devkit.errors import InvokeError, RouterError

PIN = DEPLOYMENT_HEADER.decode()
DEFAULT_RATE = 20.0


@dataclass(frozen=True)
class Recorded:
    body: bytes
    request_id: str
    source: str  # file, or file:line


@dataclass(frozen=True)
class ReplayReport:
    endpoint: str
    sent: int
    pair: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "sent": self.sent, "pair": self.pair}


def load_requests(path: Path) -> list[Recorded]:
    """Every recorded request under ``path``; InvokeError when there is none."""
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    found = [request for file in files for request in _read(file)]
    if not found:
        raise InvokeError(f"No recorded request found in {path}; point --from at the "
                          f"request collection's JSONL files or a folder of request files.")
    return found


def _read(file: Path) -> Iterator[Recorded]:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InvokeError(f"Cannot read {file} ({exc.strerror}); check --from.") from exc
    if file.suffix != ".jsonl":
        yield Recorded(raw, file.name, str(file))
        return
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.strip():
            yield _event(line, f"{file}:{number}")


def _event(line: bytes, where: str) -> Recorded:
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise InvokeError(f"{where} is not a JSON line ({exc}); a .jsonl file holds one "
                          f"request or data-collection event per line.") from exc
    if not isinstance(event, dict) or "data" not in event:
        return Recorded(line, where, where)
    data = event["data"]
    body = data.encode("utf-8") if isinstance(data, str) else json.dumps(data).encode()
    request_id = str(event.get("xrequestid") or event.get("id") or where)
    return Recorded(body, request_id, where)


def replay(view: RouterView, requests: list[Recorded], deployment: str,
           against: str | None = None, *, rate: float = DEFAULT_RATE,
           on_progress: Callable[[int, int], None] = lambda done, total: None) -> ReplayReport:
    """Send ``requests`` to ``against`` (default: the deployment with the most live
    traffic) and to ``deployment``; compare each pair under the router's tolerance."""
    traffic = view.traffic().traffic
    for name in (deployment, against):
        if name is not None and name not in traffic:
            raise RouterError(f"Endpoint '{view.endpoint}' has no deployment '{name}' "
                              f"(deployments: {', '.join(traffic)}); pick one of those.")
    against = against or _incumbent(view.endpoint, traffic, deployment)
    tolerance = _tolerance(view.shadow().get("tolerance") or {})
    stats = PairStats(against, deployment)
    spacing = 1.0 / rate if rate > 0 else 0.0
    with httpx.Client(headers=dict(view.headers),
                      timeout=httpx.Timeout(60.0, connect=10.0)) as client:
        next_at = time.monotonic()
        for done, request in enumerate(requests, start=1):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at + spacing, time.monotonic())
            live = _send(client, view, request, against)
            shadow = _send(client, view, request, deployment)
            stats.record(compare(live, shadow, tolerance), live, shadow, request.request_id)
            on_progress(done, len(requests))
    return ReplayReport(view.endpoint, len(requests), stats.as_json())


def _incumbent(endpoint: str, traffic: dict[str, int], deployment: str) -> str:
    others = sorted(((w, n) for n, w in traffic.items() if n != deployment and w > 0),
                    reverse=True)
    if not others:
        raise RouterError(f"No other deployment of '{endpoint}' has live traffic to compare "
                          f"{deployment} with; name one with --against.")
    return others[0][1]


def _tolerance(raw: dict[str, Any]) -> Tolerance:
    return Tolerance(atol=float(raw.get("atol", Tolerance.atol)),
                     rtol=float(raw.get("rtol", Tolerance.rtol)),
                     ignore=tuple(raw.get("ignore", ())))


def _send(client: httpx.Client, view: RouterView, request: Recorded, name: str) -> Answer:
    """One pinned request, as an Answer the way the router's shadow diff reads one."""
    headers = {"Content-Type": "application/json", PIN: name,
               "x-request-id": request.request_id[:100]}
    started = time.perf_counter()
    try:
        response = client.post(view.scoring_uri, content=request.body, headers=headers)
    except httpx.HTTPError as exc:
        raise InvokeError(f"Replaying {request.source} to {name} failed ({exc}); check the "
                          f"endpoint with `devkit status {view.endpoint}`.") from exc
    seconds = time.perf_counter() - started
    kind = response.headers.get("content-type", "")
    model_status = response.headers.get(ERROR_STATUS.decode())
    if model_status is not None:
        return Answer(int(model_status), response.content, kind, seconds)
    if response.status_code in ROUTER_FAILURES or response.status_code in (401, 404):
        return Answer(response.status_code, None, seconds=seconds, failure=response.text)
    return Answer(response.status_code, response.content, kind, seconds)
