"""The autoscaling loop of one endpoint: poll the router, decide, act, record.

One :class:`Watch` per autoscaled deployment carries what the decision needs between
polls (the router's last in-flight tally, the recommendations in the scale-in window,
when the count last changed). Acting goes through the Engine ``up`` used: out, one
replica at a time, each joining the router as soon as it is ready (the first helps at
once); in, the highest indexes are flagged draining, awaited until they serve nothing
(or their request timeout passed), taken out of the router config, then removed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from devkit.autoscale.capacity import machine_cap
from devkit.autoscale.decide import SCALE_IN_WINDOW_S, Decision, History, Policy, Reading, decide
from devkit.engines import scale_record as record
from devkit.engines.base import Engine
from devkit.engines.settings import ReplicaRun
from devkit.errors import DevkitError
from devkit.router import replicas as routes
from devkit.spec.model import DeploymentSpec, Endpoint

WINDOW_TAG = "devkit.autoscale.scale_in_window_s"  # a deployment tag overriding the default
GONE_AFTER_POLLS = 30  # the router did not answer this many polls in a row: it is gone
DRAIN_GRACE_S = 2.0  # past the request timeout, before a draining replica is removed anyway
Say = Callable[[str], None]


def policy_for(spec: DeploymentSpec, host_cpus: int, host_memory: int) -> Policy:
    scale = spec.scale_settings
    cap, note = machine_cap(spec, host_cpus, host_memory)
    window = float(spec.tags.get(WINDOW_TAG, SCALE_IN_WINDOW_S))
    return Policy(scale.min_instances, scale.max_instances, scale.target_utilization_percentage,
                  spec.request_settings.max_concurrent_requests_per_instance, window, cap, note)


@dataclass
class Watch:
    """One autoscaled deployment between polls."""

    spec: DeploymentSpec
    policy: Policy
    since: float  # when the count last changed (or watching began)
    due: float = 0.0
    tally: tuple[int, int] | None = None  # (samples, in-flight sum) at the last poll
    history: History = ()
    last: Decision | None = None  # the last decision that changed the count
    now: Decision | None = None  # the latest decision, whatever it was
    current: int | None = None  # replicas serving after the latest step
    at: str = ""
    capped_said: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def scale_json(self) -> dict[str, Any]:
        shown = self.last or self.now
        return {"current": self.current, "min": self.policy.floor,
                "max": self.policy.max_instances,
                "target": self.policy.target_percent,
                "utilization": round(self.now.utilization, 4) if self.now else None,
                "last_decision": _action_words(shown), "reason": shown.reason if shown else "",
                "at": self.at, "capped": self.now.capped if self.now else "",
                "scale_in_window_s": self.policy.scale_in_window_s, **self.extra}


class Autoscaler:
    """Scales ``endpoint``'s autoscaled deployments through ``engine`` until ``stopping``."""

    def __init__(self, endpoint: Endpoint, engine: Engine, run_for: Callable[[str], ReplicaRun],
                 say: Say, stopping: threading.Event,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoint, self.engine, self.say = endpoint, engine, say
        self._run_for, self._stopping, self._clock = run_for, stopping, clock
        cpus, memory = engine.host_resources()
        start = clock()
        self.watches = {d.name: Watch(d, policy_for(d, cpus, memory), start)
                        for d in endpoint.deployments if d.scale_settings.scaled}
        self._router: str | None = None
        self.misses = 0  # polls in a row the router did not answer

    def run(self) -> None:
        """Poll each deployment on its interval until stopped, or until the router has
        not answered for :data:`GONE_AFTER_POLLS` polls (the endpoint was taken down
        without ``devkit down``, or the machine restarted)."""
        while not self._stopping.is_set():
            if self.misses >= GONE_AFTER_POLLS:
                self.say("the endpoint's router is gone; stopping")
                return
            now = self._clock()
            for watch in self.watches.values():
                if watch.due <= now and not self._stopping.is_set():
                    self.step(watch)
            record.write_status(self.endpoint.name,
                                {n: w.scale_json() for n, w in self.watches.items()})
            next_due = min(w.due for w in self.watches.values())
            self._stopping.wait(max(0.05, next_due - self._clock()))

    def step(self, watch: Watch) -> None:
        name = watch.spec.name
        now = self._clock()
        watch.due = now + watch.spec.scale_settings.polling_interval
        load = self._load()
        entry = (load or {}).get("deployments", {}).get(name)
        if entry is None:
            return
        decision = decide(watch.policy, Reading(now, int(entry["active"]),
                                                self._mean(watch, entry)),
                          watch.history, watch.since)
        watch.history, watch.now, watch.current = decision.history, decision, decision.current
        self._say_cap(watch, decision)
        if not decision.changes:
            if watch.last is None:
                watch.at = _stamp()
            return
        self.say(f"{name}: scale {decision.action} {decision.current} → {decision.desired}: "
                 f"{decision.reason}")
        watch.last, watch.at = decision, _stamp()
        if decision.action == "out":
            watch.current += self._scale_out(watch, decision.desired - decision.current)
        else:
            watch.current -= self._scale_in(watch, entry, decision.current - decision.desired)
        watch.since, watch.tally = self._clock(), None

    # -- reading the router ------------------------------------------------------------------
    def _load(self) -> dict[str, Any] | None:
        for _attempt in range(2):
            url = self._router or self.engine.router_url(self.endpoint.name)
            if url is None:
                break
            try:
                answer = httpx.get(f"{url}/-/load.json", timeout=2)
                answer.raise_for_status()
                self._router, self.misses = url, 0
                loaded: dict[str, Any] = answer.json()
                return loaded
            except (httpx.HTTPError, ValueError):
                self._router = None  # a restarted router may answer elsewhere
        self.misses += 1
        if self.misses in (1, 10) or self.misses % 60 == 0:
            self.say(f"the router of endpoint '{self.endpoint.name}' does not answer "
                     f"({self.misses} poll(s)); holding")
        return None

    def _mean(self, watch: Watch, entry: dict[str, Any]) -> float:
        """Mean in flight + queued since the last poll (the instant count the first time)."""
        tally = (int(entry["samples"]), int(entry["in_flight_sum"]))
        previous, watch.tally = watch.tally, tally
        if previous is None or tally[0] <= previous[0]:
            return float(entry["in_flight"])
        return (tally[1] - previous[1]) / (tally[0] - previous[0])

    def _say_cap(self, watch: Watch, decision: Decision) -> None:
        """Say a cap once, when it first holds the count back (again after it cleared)."""
        if decision.capped and decision.capped != watch.capped_said:
            self.say(f"{watch.spec.name}: {decision.capped}")
        watch.capped_said = decision.capped

    # -- acting --------------------------------------------------------------------------
    def _scale_out(self, watch: Watch, count: int) -> int:
        """Add ``count`` replicas, each serving as soon as it is ready; how many joined."""
        spec = watch.spec
        for joined in range(count):
            if self._stopping.is_set():
                return joined
            try:
                replica = self.engine.add_replica(spec, self._run_for(spec.name), self.say)
                routes.join(self.endpoint.name, spec.name, replica.route_url)
            except DevkitError as exc:
                self.say(f"{spec.name}: scaling out failed: {exc}")
                watch.extra["error"] = str(exc)
                return joined
            watch.extra.pop("error", None)
            self.say(f"{spec.name}: replica {replica.index} serving")
        return count

    def _scale_in(self, watch: Watch, entry: dict[str, Any], count: int) -> int:
        """Drain, then remove, the ``count`` highest replicas; how many left."""
        spec = watch.spec
        by_url = {r.route_url: r.index for r in
                  self.engine.scaled_replicas(self.endpoint.name, spec.name)}
        active = [r["url"] for r in entry["replicas"] if not r["draining"]]
        leaving = sorted(active, key=lambda u: by_url.get(u, -1))[-count:]
        try:
            routes.drain(self.endpoint.name, spec.name, leaving)
            self._await_idle(spec, leaving)
            routes.forget(self.endpoint.name, spec.name, leaving)
        except DevkitError as exc:
            self.say(f"{spec.name}: scaling in failed: {exc}")
            watch.extra["error"] = str(exc)
            return 0
        for url in leaving:
            if url in by_url:
                self.engine.remove_replica(self.endpoint.name, spec.name, by_url[url])
        watch.extra.pop("error", None)
        self.say(f"{spec.name}: drained and removed {', '.join(leaving)}")
        return len(leaving)

    def _await_idle(self, spec: DeploymentSpec, urls: list[str]) -> None:
        """Until the router says the draining replicas serve nothing, or their requests
        must have timed out (the router answers 408 past request_timeout_ms)."""
        deadline = self._clock() + spec.request_settings.request_timeout_ms / 1000 + \
            DRAIN_GRACE_S
        while self._clock() < deadline:
            load = self._load() or {}
            entry = load.get("deployments", {}).get(spec.name, {})
            busy = [r for r in entry.get("replicas", []) if r["url"] in urls and r["in_flight"]]
            if load and not busy:
                return
            time.sleep(0.05)
        self.say(f"{spec.name}: {', '.join(urls)} still busy after the drain timeout; "
                 "removing it anyway")


def _stamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _action_words(decision: Decision | None) -> str:
    if decision is None:
        return "none yet"
    return {"out": "scale out", "in": "scale in"}.get(decision.action, "hold")
