"""``rollout``: shift an endpoint's live traffic to a candidate step by step, checking it
against the incumbent at every step, and roll back on the first failed check.

The decision at each step comes from the router's own counters (:mod:`.windows`): after
the traffic change, wait ``interval_s``, then judge the window that just ended:

- the candidate must have answered at least ``min_requests`` in the window, or the check
  waits longer (up to ``max_wait_s``) instead of deciding on noise; still too few → fail;
- candidate error rate <= ``max_error_rate``;
- candidate p99 <= ``max_p99_ratio`` x the incumbent's p99 of the same window (or of the
  last window it had traffic), unless the difference is under ``p99_slack_ms``: on
  loopback both are a few milliseconds and a ratio of two small numbers is noise.

If the candidate is the mirror target when the rollout starts, the shadow diff is judged
first: at least ``min_requests`` compared pairs with agreement >= ``min_agreement``
(waiting for enough mirrored traffic the same way). The mirror ends with the first step
(a deployment with live traffic cannot be mirrored to).

A failed check puts back the traffic the rollout started from and says why. Stopping
(Ctrl-C, or ``stop`` set by the TUI) leaves the traffic where the last completed step put
it. Every decision is an :class:`Event` handed to ``on_event`` as it happens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devkit.actions.router_view import RouterView
from devkit.actions.windows import Counts, Window, read_counts, window
from devkit.errors import RouterError
from devkit.router.control import TrafficChange

COMPLETED, ROLLED_BACK, STOPPED = "completed", "rolled_back", "stopped"
INCUMBENT_MIN_REQUESTS = 10  # the incumbent's requests in a window for its p99 to count


@dataclass(frozen=True)
class RolloutPlan:
    steps: tuple[int, ...] = (10, 25, 50, 100)
    interval_s: float = 30.0
    max_error_rate: float = 0.01
    max_p99_ratio: float = 1.5
    p99_slack_ms: float = 5.0
    min_agreement: float = 0.99
    min_requests: int = 50
    max_wait_s: float | None = None  # None: 10 x interval_s
    # False (``--unchecked``): step the weights every interval and judge nothing, for a
    # place whose traffic no devkit router counts (a Kubernetes target without metrics).
    checked: bool = True

    def validate(self) -> None:
        steps = list(self.steps)
        if not steps or steps != sorted(set(steps)) or steps[0] < 1 or steps[-1] > 100:
            raise RouterError(f"Rollout steps {steps} must be increasing percentages "
                              f"between 1 and 100, for example --steps 10,25,50,100.")
        if self.interval_s <= 0 or self.min_requests < 1:
            raise RouterError("The rollout interval must be > 0 and --min-requests >= 1; "
                              "for example --interval 30s --min-requests 50.")

    @property
    def patience_s(self) -> float:
        return self.max_wait_s if self.max_wait_s is not None else 10 * self.interval_s


@dataclass(frozen=True)
class Event:
    """One thing the rollout did or decided. ``kind``: start, shadow, step, wait, check,
    rollback, done, stopped."""

    kind: str
    message: str
    weights: Mapping[str, int] = field(default_factory=dict)
    step: int | None = None
    passed: bool | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"event": self.kind, "message": self.message, "step": self.step,
                "weights": dict(self.weights), "passed": self.passed,
                **({"details": dict(self.details)} if self.details else {})}


@dataclass(frozen=True)
class RolloutOutcome:
    result: str  # COMPLETED, ROLLED_BACK or STOPPED
    reason: str
    traffic: Mapping[str, int]
    events: tuple[Event, ...]

    @property
    def ok(self) -> bool:
        return self.result == COMPLETED


class Failed(Exception):
    """A check failed; the message is the reason shown to the user."""


class _Run:
    """One rollout's state: the plan, the start, the events so far."""

    def __init__(self, view: RouterView, candidate: str, plan: RolloutPlan,
                 on_event: Callable[[Event], None], stop: threading.Event) -> None:
        self.view, self.candidate, self.plan = view, candidate, plan
        self.on_event, self.stop = on_event, stop
        self.events: list[Event] = []
        self.start = view.traffic()
        self.incumbent = incumbent_of(self.start, candidate)
        self.weights: dict[str, int] = dict(self.start.traffic)
        self.incumbent_p99: float | None = None

    def emit(self, kind: str, message: str, **extra: Any) -> None:
        event = Event(kind, message, dict(self.weights), **extra)
        self.events.append(event)
        self.on_event(event)

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise KeyboardInterrupt

    def outcome(self, result: str, reason: str) -> RolloutOutcome:
        return RolloutOutcome(result, reason, dict(self.weights), tuple(self.events))


def rollout(view: RouterView, candidate: str, plan: RolloutPlan | None = None, *,
            on_event: Callable[[Event], None] = lambda event: None,
            stop: threading.Event | None = None) -> RolloutOutcome:
    """Shift ``view``'s endpoint to ``candidate`` along ``plan``; see the module doc."""
    plan = plan or RolloutPlan()
    plan.validate()
    if plan.checked and view.unmeasured is not None:  # refused before any change
        raise RouterError(f"{view.unmeasured}; give --metrics-url URL (a document in the "
                          f"router's /-/metrics.json format counting this endpoint's "
                          f"deployments), or --unchecked to step the weights without any "
                          f"check.")
    run = _Run(view, candidate, plan, on_event, stop or threading.Event())
    how = (f"checking every {plan.interval_s:g} s" if plan.checked else
           f"one every {plan.interval_s:g} s, UNCHECKED: nothing judges {candidate}'s health"
           + (f" ({view.unmeasured})" if view.unmeasured else "") + " and nothing rolls back")
    run.emit("start", f"Rolling out {candidate} from {run.incumbent} in steps "
             f"{', '.join(f'{s}%' for s in plan.steps)}, {how}.")
    try:
        if run.start.mirror.get(candidate) and plan.checked:
            _check_shadow(run)
        for step in plan.steps:
            if step <= run.start.traffic.get(candidate, 0):
                continue
            _step(run, step)
    except Failed as failure:
        return _roll_back(run, str(failure))
    except KeyboardInterrupt:
        run.weights = dict(view.traffic().traffic)
        where = " ".join(f"{n}={w}" for n, w in run.weights.items())
        run.emit("stopped", f"Stopped; traffic stays where the last completed step put "
                 f"it: {where}.")
        return run.outcome(STOPPED, "stopped by the user")
    run.emit("done", f"{candidate} reached {plan.steps[-1]}% and passed every check."
             if plan.checked else f"{candidate} reached {plan.steps[-1]}%, unchecked.")
    return run.outcome(COMPLETED, "")


def incumbent_of(start: TrafficChange, candidate: str) -> str:
    """The deployment the rollout moves traffic away from: the only other one with live
    traffic. RouterError when there is none, or more than one."""
    if candidate not in start.traffic:
        raise RouterError(f"Endpoint '{start.endpoint}' has no deployment '{candidate}' "
                          f"(deployments: {', '.join(start.traffic)}); pick one of those.")
    others = [n for n, w in start.traffic.items() if w > 0 and n != candidate]
    if len(others) != 1:
        live = ", ".join(others) or "none"
        raise RouterError(f"A rollout moves traffic from one deployment to '{candidate}', "
                          f"but endpoint '{start.endpoint}' has live traffic on: {live}; "
                          f"set it with `devkit traffic {start.endpoint} NAME=100` first.")
    return others[0]


def _step(run: _Run, step: int) -> None:
    weights = {name: 0 for name in run.start.traffic}
    weights.update({run.incumbent: 100 - step, run.candidate: step})
    # The mirror to the candidate ends here (it has live traffic now); any other stays.
    run.view.set_traffic(weights, {n: p for n, p in run.start.mirror.items()
                                   if n != run.candidate})
    run.weights = weights
    run.emit("step", f"{run.candidate} at {step}%, {run.incumbent} at {100 - step}%.",
             step=step)
    if not run.plan.checked:
        run.sleep(run.plan.interval_s)
        run.emit("check", f"Not checked (--unchecked): {run.candidate} stayed at {step}% "
                 f"for {run.plan.interval_s:g} s.", step=step)
        return
    before = read_counts(run.view.metrics())
    run.sleep(run.plan.interval_s)
    windows = _windows(run, before, step)
    run.emit("check", _passed_text(run, windows), step=step, passed=True,
             details={name: w.as_json() for name, w in windows.items()})


def _windows(run: _Run, before: Mapping[str, Counts], step: int) -> dict[str, Window]:
    """The step's windows once the candidate answered enough requests, checked; Failed
    with the reason otherwise."""
    waited = 0.0
    while True:
        after = read_counts(run.view.metrics())
        found = {name: window(before.get(name, Counts()), counts)
                 for name, counts in after.items() if name in (run.candidate, run.incumbent)}
        candidate = found.get(run.candidate, Window(0, 0, ()))
        if candidate.requests >= run.plan.min_requests:
            _judge(run, candidate, found.get(run.incumbent))
            return found
        if waited >= run.plan.patience_s:
            raise Failed(f"{run.candidate} answered only {candidate.requests} requests at "
                         f"{step}% in {run.plan.interval_s + waited:g} s, fewer than "
                         f"--min-requests {run.plan.min_requests}: not enough traffic to judge")
        run.emit("wait", f"{run.candidate} has answered {candidate.requests} of the "
                 f"{run.plan.min_requests} requests a check needs; waiting.", step=step)
        pause = min(run.plan.interval_s, max(run.plan.patience_s - waited, 0.05))
        run.sleep(pause)
        waited += pause


def _judge(run: _Run, candidate: Window, incumbent: Window | None) -> None:
    plan = run.plan
    if candidate.error_rate > plan.max_error_rate:
        raise Failed(f"{run.candidate}'s error rate {candidate.error_rate:.1%} "
                     f"({candidate.errors} of {candidate.requests}) exceeds "
                     f"--max-error-rate {plan.max_error_rate:.1%}")
    # The incumbent's p99 of this window counts once it has a few requests: a slow
    # candidate holds the clients longer, so at 50% the incumbent may answer fewer than
    # --min-requests while the candidate reaches them (a p99 of fewer requests is higher,
    # so this errs towards passing, never towards a false rollback).
    if incumbent is not None and incumbent.requests >= min(plan.min_requests,
                                                           INCUMBENT_MIN_REQUESTS):
        run.incumbent_p99 = incumbent.p99_ms()
    mine, theirs = candidate.p99_ms(), run.incumbent_p99
    if mine is None or theirs is None:
        return
    if mine > plan.max_p99_ratio * theirs and mine - theirs > plan.p99_slack_ms:
        raise Failed(f"{run.candidate}'s p99 {mine:.1f} ms is {mine / theirs:.2f}x "
                     f"{run.incumbent}'s {theirs:.1f} ms, above --max-p99-ratio "
                     f"{plan.max_p99_ratio:g}")


def _check_shadow(run: _Run) -> None:
    """Judge the mirrored comparison before the candidate gets live traffic."""
    if not run.view.shadow_diff:
        run.emit("shadow", f"Shadow diff not judged: no devkit router compares the mirrored "
                 f"answers of {run.candidate} on this target.")
        return
    waited = 0.0
    while True:
        pair = _pair(run.view.shadow(), run.incumbent, run.candidate)
        compared = int(pair.get("compared", 0))
        if compared >= run.plan.min_requests:
            break
        if waited >= run.plan.patience_s:
            raise Failed(f"only {compared} mirrored requests were compared, fewer than "
                         f"--min-requests {run.plan.min_requests}: not enough traffic to judge "
                         f"the shadow diff")
        run.emit("wait", f"{compared} of {run.plan.min_requests} mirrored requests compared; "
                 f"waiting.")
        run.sleep(min(run.plan.interval_s, run.plan.patience_s))
        waited += min(run.plan.interval_s, run.plan.patience_s)
    agreement = float(pair.get("agreement_rate") or 0.0)
    fields = ", ".join(f["path"] for f in pair.get("fields", [])[:3])
    details = {"compared": compared, "agreement_rate": agreement, "fields": fields}
    if agreement < run.plan.min_agreement:
        raise Failed(f"{run.candidate} agreed with {run.incumbent} on {agreement:.1%} of "
                     f"{compared} mirrored requests, below --min-agreement "
                     f"{run.plan.min_agreement:.1%}" + (f" (differing: {fields})"
                                                         if fields else ""))
    run.emit("shadow", f"Shadow diff: {run.candidate} agreed with {run.incumbent} on "
             f"{agreement:.1%} of {compared} mirrored requests.", passed=True,
             details=details)


def _pair(shadow: Mapping[str, Any], live: str, candidate: str) -> Mapping[str, Any]:
    pairs: Sequence[Mapping[str, Any]] = shadow.get("pairs", [])
    return next((p for p in pairs if p.get("live_deployment") == live
                 and p.get("shadow_deployment") == candidate), {})


def _roll_back(run: _Run, reason: str) -> RolloutOutcome:
    change = run.view.set_traffic(run.start.traffic, run.start.mirror)
    run.weights = dict(change.traffic)
    run.emit("rollback", f"Rolled back to {run.incumbent}: {reason}.", passed=False,
             details={"reason": reason})
    return run.outcome(ROLLED_BACK, reason)


def _passed_text(run: _Run, windows: Mapping[str, Window]) -> str:
    mine = windows[run.candidate]
    p99 = mine.p99_ms()
    latency = f", p99 {p99:.1f} ms" if p99 is not None else ""
    theirs = f" (incumbent p99 {run.incumbent_p99:.1f} ms)" if run.incumbent_p99 else ""
    return (f"Check passed: {run.candidate} answered {mine.requests} requests, "
            f"{mine.error_rate:.1%} errors{latency}{theirs}.")
