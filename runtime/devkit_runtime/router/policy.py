"""The traffic policy: which deployment answers a request, and whether it is mirrored.

A pure object with no I/O and an injectable random source, so the split can be tested
exactly with a seed and swapped atomically when the config changes. The rules are those of
the managed front end (docs/contract.md §3):

- the ``azureml-model-deployment`` header pins a deployment, even one at 0% live traffic;
  pinning a name that does not exist is refused with the list of real names;
- otherwise a deployment is drawn by its live weight; with no positive weight there is
  nowhere to send the request;
- ``mirror`` copies that percentage of *weighted* requests to the mirror deployment.
  Pinned requests are not mirrored: the caller asked for one specific deployment.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The outcome for one request. ``deployment`` is None when nothing can answer;
    ``reason`` then says why, in a sentence the client sees."""

    deployment: str | None
    mirror: str | None = None
    pinned: bool = False
    reason: str = ""


class TrafficPolicy:
    """Weighted split + header pin + mirror, decided per request."""

    def __init__(self, weights: Mapping[str, int], mirror: Mapping[str, int] | None = None,
                 rng: random.Random | None = None) -> None:
        self.weights = dict(weights)
        self.mirror = {name: pct for name, pct in (mirror or {}).items() if pct > 0}
        self._rng = rng or random.Random()
        live = [(name, w) for name, w in self.weights.items() if w > 0]
        self._names = [name for name, _ in live]
        self._cumulative: list[int] = []
        total = 0
        for _, weight in live:
            total += weight
            self._cumulative.append(total)
        self._total = total
        # Decisions are immutable and few: built once here, not per request.
        self._unpinned = {(name, mirror): Decision(name, mirror=mirror)
                          for name in self._names for mirror in (None, *self.mirror)}
        self._pinned = {name: Decision(name, pinned=True) for name in self.weights}
        self._nowhere = Decision(None, reason="No deployment of this endpoint receives "
                                 "traffic; set traffic with `devkit traffic` or pin one with "
                                 "the azureml-model-deployment header.")

    def decide(self, pinned: str | None = None) -> Decision:
        if pinned is not None:
            return self._pin(pinned)
        if not self._total:
            return self._nowhere
        if len(self._names) == 1:  # one live deployment: the draw could only pick it
            chosen = self._names[0]
        else:
            ticket = int(self._rng.random() * self._total)
            chosen = self._names[bisect.bisect_right(self._cumulative, ticket)]
        return self._unpinned[chosen, self._draw_mirror() if self.mirror else None]

    def _pin(self, name: str) -> Decision:
        decision = self._pinned.get(name)
        if decision is None:
            known = ", ".join(sorted(self.weights)) or "none"
            return Decision(None, pinned=True,
                            reason=f"Deployment '{name}' does not exist in this endpoint; "
                            f"deployments: {known}.")
        return decision

    def _draw_mirror(self) -> str | None:
        for name, pct in self.mirror.items():
            if self._rng.random() * 100 < pct:
                return name
        return None

    @classmethod
    def from_routes(cls, routes: Sequence[tuple[str, int, int]],
                    rng: random.Random | None = None) -> TrafficPolicy:
        """Build from ``(name, weight, mirror)`` triples as the config lists them."""
        return cls({n: w for n, w, _ in routes}, {n: m for n, _, m in routes}, rng)
