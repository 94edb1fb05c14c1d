"""The selected endpoint or deployment at a glance: state, replicas, traffic, URI, the
router's metrics with sparklines, the last reload, and build progress while building."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Sparkline, Static

from devkit.reload import ReplicaReload, summary
from devkit.tui.history import Series
from devkit.tui.views import STATE_STYLE, DeploymentView, EndpointView


class Overview(VerticalScroll):
    """Shows whatever the main screen hands it through :meth:`show`; never fetches."""

    def compose(self) -> ComposeResult:
        yield Static(id="details")
        yield Static(id="metrics-text")
        yield Label("req/s", classes="spark-label")
        yield Sparkline([], id="rps")
        yield Label("p99 ms", classes="spark-label")
        yield Sparkline([], id="p99")
        yield Static(id="reload")
        yield Static(id="build")

    def show(self, view: EndpointView | None, deployment: str | None, series: Series | None,
             reload: ReplicaReload | None, build: list[str]) -> None:
        self.query_one("#details", Static).update(details(view, deployment))
        self.query_one("#metrics-text", Static).update(metrics_text(series, view))
        self.query_one("#rps", Sparkline).data = list(series.rps) if series else []
        self.query_one("#p99", Sparkline).data = list(series.p99) if series else []
        self.query_one("#reload", Static).update(reload_text(reload, deployment))
        self.query_one("#build", Static).update(build_text(build))


def details(view: EndpointView | None, deployment: str | None) -> Table | Text:
    if view is None:
        return Text("No endpoint yet: run `devkit up PATH`, or start the one shown here "
                    "with u.", style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("endpoint", view.name)
    table.add_row("engine", view.engine or "not running")
    table.add_row("scoring", view.scoring_uri or "-")
    table.add_row("auth", view.auth_mode)
    dep = view.deployment(deployment) if deployment else None
    if dep is None:
        split = " ".join(f"{d.name}={d.traffic}" for d in view.deployments)
        mirror = " ".join(f"{d.name}={d.mirror}" for d in view.deployments if d.mirror)
        table.add_row("traffic", split + (f"  mirror {mirror}" if mirror else ""))
        return table
    _deployment_rows(table, dep)
    return table


def _deployment_rows(table: Table, dep: DeploymentView) -> None:
    table.add_row("deployment", Text(f"{dep.name} ", style="bold").append(
        dep.state, style=STATE_STYLE.get(dep.state, "")))
    table.add_row("replicas", f"{dep.replicas}/{dep.wanted}")
    if dep.scale is not None:
        _scale_rows(table, dep.scale)
    table.add_row("traffic", f"{dep.traffic}%" + (f"  mirror {dep.mirror}%" if dep.mirror
                                                   else ""))
    if dep.image:
        table.add_row("image", dep.image)
    for replica in dep.replica_status:
        table.add_row(f"  #{replica.index}", f"{replica.state.value} {replica.url} "
                                             f"({replica.ident[:12]})")
    if dep.error:
        table.add_row("error", Text(_first_lines(dep.error, 6), style="red"))


def _scale_rows(table: Table, scale: Mapping[str, Any]) -> None:
    """The autoscaler's last word: bounds, utilization, decision and why."""
    used = scale.get("utilization")
    shown = f"{used:.0%}" if isinstance(used, (int, float)) else "-"
    table.add_row("autoscale", f"{scale.get('current')} in {scale.get('min')}..{scale.get('max')}"
                  f", utilization {shown} (target {scale.get('target')}%), loop "
                  f"{scale.get('loop', 'stopped')}")
    table.add_row("last scaling", f"{scale.get('last_decision')} at {scale.get('at') or '-'}: "
                  f"{scale.get('reason') or '-'}")
    if scale.get("capped"):
        table.add_row("capped", Text(str(scale["capped"]), style="yellow"))
    if scale.get("error"):
        table.add_row("scaling error", Text(str(scale["error"]), style="red"))


def metrics_text(series: Series | None, view: EndpointView | None) -> Text:
    latest = series.latest if series else None
    if latest is None:
        routed = view is not None and view.running
        return Text("metrics: " + ("no router metrics at the scoring URI" if routed
                                   else "endpoint not running"), style="dim")
    p50 = "-" if latest.p50_ms is None else f"{latest.p50_ms:.1f}"
    p99 = "-" if latest.p99_ms is None else f"{latest.p99_ms:.1f}"
    text = Text(f"{series.current_rps if series else 0:.1f} req/s  p50 {p50} ms  "
                f"p99 {p99} ms  {latest.requests} requests  {latest.in_flight} in flight")
    if latest.by_status:
        codes = " ".join(f"{code}×{n}" for code, n in latest.by_status.items())
        text.append(f"\nby status: {codes}", style="red" if latest.errors else "")
    return text


def reload_text(reload: ReplicaReload | None, deployment: str | None) -> Text:
    if reload is None or deployment is None:
        return Text("")
    return Text("last reload: " + summary([reload])[0], style="green" if reload.ok else "red")


def build_text(lines: list[str]) -> Text:
    if not lines:
        return Text("")
    return Text("progress:\n" + "\n".join(lines[-8:]), style="yellow")


def _first_lines(text: str, count: int) -> str:
    lines = text.splitlines()
    more = f"\n… {len(lines) - count} more lines (see logs)" if len(lines) > count else ""
    return "\n".join(lines[:count]) + more
