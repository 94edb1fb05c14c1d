"""``compare``: how the shadow deployment's answers compare with the live ones, as the
router's shadow diff counted them (:mod:`devkit_runtime.router.shadow`), next to each
deployment's live counters. Rendering is shared with ``devkit replay``, whose report has
the same shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devkit.actions.router_view import RouterView


@dataclass(frozen=True)
class ShadowReport:
    """The router's ``/-/shadow.json`` and ``/-/metrics.json`` of one endpoint."""

    endpoint: str
    shadow: Mapping[str, Any]
    deployments: Mapping[str, Any]

    @property
    def pairs(self) -> Sequence[Mapping[str, Any]]:
        pairs: Sequence[Mapping[str, Any]] = self.shadow.get("pairs", [])
        return pairs

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "tolerance": self.shadow.get("tolerance"),
                "compare": self.shadow.get("compare", True), "pairs": list(self.pairs),
                "deployments": dict(self.deployments)}


def shadow_report(view: RouterView) -> ShadowReport:
    metrics = view.metrics()
    deployments = {n: m for n, m in (metrics.get("deployments") or {}).items() if n}
    return ShadowReport(view.endpoint, view.shadow(), deployments)


def render_pair(pair: Mapping[str, Any]) -> list[str]:
    """A pair as lines of text: agreement, errors and latency of each side, the fields
    that differ most often, and the latest disagreement as a diff."""
    live, shadow = pair["live_deployment"], pair["shadow_deployment"]
    rate = pair.get("agreement_rate")
    agreement = "no comparisons yet" if rate is None else f"{rate:.2%} agreement"
    lines = [f"{live} (live) vs {shadow} (shadow): {agreement}, {pair['agreed']} of "
             f"{pair['compared']} compared; {pair['status_mismatches']} status and "
             f"{pair['body_mismatches']} body mismatches"
             + (f", {pair['dropped']} not compared (queue full)" if pair.get("dropped")
                else "")
             + (f", {pair['skipped']} not compared (over the router's compare budget: "
                "a sample was compared)" if pair.get("skipped") else "")]
    for side, name in (("live", live), ("shadow", shadow)):
        lines.append(f"  {name:<12} errors {_pct(pair[side]['error_rate'])}  "
                     f"p50 {_ms(pair[side]['p50_ms'])}  p99 {_ms(pair[side]['p99_ms'])}")
    if pair.get("fields"):
        lines.append("  fields differing most: " + ", ".join(
            f"{f['path']} ({f['count']})" for f in pair["fields"][:5]))
    recent = pair.get("recent") or []
    if recent:
        lines += ["  latest disagreement:"] + ["    " + line for line in
                                               render_disagreement(recent[-1])]
    return lines


def render_disagreement(entry: Mapping[str, Any]) -> list[str]:
    """A readable diff: one ``-`` (live) and ``+`` (shadow) line per differing path."""
    lines = [f"request {entry.get('request_id') or '?'}: {entry['live']} "
             f"{entry['live_status']} in {entry['live_ms']:.1f} ms, {entry['shadow']} "
             f"{entry['shadow_status']} in {entry['shadow_ms']:.1f} ms"]
    for difference in entry.get("differences", []):
        lines.append(f"{difference['path']}")
        lines.append(f"  - {difference['live']}")
        lines.append(f"  + {difference['shadow']}")
    if entry.get("more_differences"):
        lines.append(f"... and {entry['more_differences']} more differing paths")
    return lines


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"
