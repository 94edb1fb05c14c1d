"""The scaling decision, as a pure function: a policy and what was observed in, the
replica count wanted and a sentence saying why out. No I/O, no clock: the loop passes
the time, so every branch is a unit test.

The rule is the Kubernetes HPA's, which Azure's Kubernetes online endpoints use with the
front end's utilization as the metric: ``ratio = utilization / target``; within
:data:`TOLERANCE` of 1 nothing changes, else the count wanted is ``ceil(current x
ratio)``. Scaling out happens at once. Scaling in takes the highest count recommended
during the last ``scale_in_window_s`` (the HPA's scale-down stabilization window, 300 s
in Kubernetes; far shorter locally, see :data:`SCALE_IN_WINDOW_S`), and only once the
loop has watched that long since its last change, so a short lull never removes a
replica a burst will want back. The result is kept within min..max, and within what the
machine can hold (``machine_cap``), which is said in the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE = 0.1  # the HPA's default: |ratio - 1| within it changes nothing
SCALE_IN_WINDOW_S = 60.0  # default scale-in window: a minute below target before fewer

History = tuple[tuple[float, int], ...]  # (time, count recommended then), oldest first


@dataclass(frozen=True)
class Policy:
    """One deployment's scale settings as the loop applies them."""

    min_instances: int
    max_instances: int
    target_percent: int
    max_concurrent: int  # max_concurrent_requests_per_instance
    scale_in_window_s: float = SCALE_IN_WINDOW_S
    machine_cap: int | None = None  # replicas this machine can hold; None: no limit known
    machine_note: str = ""  # what the cap is, for the reason ("2 cores, 7.7 GiB ...")

    @property
    def floor(self) -> int:
        return max(1, self.min_instances)

    @property
    def ceiling(self) -> int:
        ceiling = max(self.max_instances, self.floor)
        return ceiling if self.machine_cap is None else max(1, min(ceiling, self.machine_cap))


@dataclass(frozen=True)
class Reading:
    """What the router said over the last polling interval."""

    at: float  # seconds (the loop's clock)
    current: int  # replicas serving (active in the router)
    load: float  # mean requests in flight + queued


@dataclass(frozen=True)
class Decision:
    action: str  # "out" | "in" | "hold"
    current: int
    desired: int
    utilization: float  # load / (current x max_concurrent), 0..
    reason: str
    capped: str = ""  # set when max_instances or the machine held the count back
    history: History = ()  # recommendations to pass to the next call

    @property
    def changes(self) -> bool:
        return self.desired != self.current


def utilization(policy: Policy, current: int, load: float) -> float:
    capacity = max(current, 1) * policy.max_concurrent
    return load / capacity


def recommend(policy: Policy, current: int, load: float) -> int:
    """The HPA's count for this load, before min/max and the machine."""
    ratio = utilization(policy, current, load) / (policy.target_percent / 100)
    if abs(ratio - 1) <= TOLERANCE:
        return current
    return math.ceil(max(current, 1) * ratio - 1e-9)


def decide(policy: Policy, reading: Reading, history: Sequence[tuple[float, int]],
           since: float) -> Decision:
    """What to do now. ``history``: recommendations since the last call (from the last
    Decision); ``since``: when the loop last changed the count (or started watching)."""
    current, load = reading.current, reading.load
    used = utilization(policy, current, load)
    said = (f"utilization {used:.0%} ({load:.1f} in flight + queued over {current} "
            f"replica(s) x {policy.max_concurrent}), target {policy.target_percent}%")
    wanted = recommend(policy, current, load)
    window = policy.scale_in_window_s
    kept = tuple((t, n) for t, n in history if t > reading.at - window) + ((reading.at, wanted),)
    if current < policy.floor:
        return Decision("out", current, policy.floor, used,
                        f"{current} replica(s) is below min_instances {policy.floor}", "", kept)
    if current > policy.ceiling:
        return Decision("in", current, policy.ceiling, used,
                        f"{current} replica(s) is above the most allowed ({_cap_note(policy)})",
                        _cap_note(policy), kept)
    if wanted > current:
        bounded, capped = _bounded(policy, wanted)
        if bounded == current:
            return Decision("hold", current, current, used,
                            f"{said}: wants {wanted}, held at {current} ({capped})", capped,
                            kept)
        return Decision("out", current, bounded, used,
                        f"{said}: above target, {current} → {bounded}"
                        + (f" (wants {wanted}; {capped})" if capped else ""), capped, kept)
    stable, _ = _bounded(policy, max(n for _, n in kept))
    if stable >= current:
        return Decision("hold", current, current, used, f"{said}: at or under target", "",
                        kept)
    watched = reading.at - since
    if watched < window:
        return Decision("hold", current, current, used,
                        f"{said}: below target; {current} → {stable} once it stays there "
                        f"for the {window:g} s scale-in window ({watched:.0f} s so far)", "",
                        kept)
    return Decision("in", current, stable, used,
                    f"{said}: below target for the {window:g} s scale-in window, "
                    f"{current} → {stable}", "", kept)


def _bounded(policy: Policy, wanted: int) -> tuple[int, str]:
    """``wanted`` within floor..ceiling, and what held it back (empty when nothing)."""
    if wanted > policy.ceiling:
        return policy.ceiling, _cap_note(policy)
    return max(wanted, policy.floor), ""


def _cap_note(policy: Policy) -> str:
    if policy.machine_cap is not None and policy.machine_cap < max(policy.max_instances,
                                                                  policy.floor):
        return (f"capped at {policy.ceiling}: this machine holds {policy.machine_cap} "
                f"replica(s) ({policy.machine_note}), fewer than max_instances "
                f"{policy.max_instances}")
    return f"capped at max_instances {policy.max_instances}"
