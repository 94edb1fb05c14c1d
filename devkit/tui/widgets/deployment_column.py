"""One deployment's column in the side-by-side screen: its share of traffic, req/s,
p50/p99, error rate, agreement with the live deployment when it is mirrored, and
sparklines of req/s and p99. Shows what the screen hands it; never fetches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline, Static

from devkit.tui.history import Series
from devkit.tui.views import DeploymentView


class DeploymentColumn(Vertical):
    def __init__(self, deployment: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deployment = deployment

    def compose(self) -> ComposeResult:
        yield Static(id="column-text")
        yield Label("req/s", classes="spark-label")
        yield Sparkline([], id="column-rps")
        yield Label("p99 ms", classes="spark-label")
        yield Sparkline([], id="column-p99")

    def show(self, view: DeploymentView | None, series: Series | None,
             pair: Mapping[str, Any] | None) -> None:
        self.query_one("#column-text", Static).update(column_text(self.deployment, view,
                                                                  series, pair))
        self.query_one("#column-rps", Sparkline).data = list(series.rps) if series else []
        self.query_one("#column-p99", Sparkline).data = list(series.p99) if series else []


def column_text(name: str, view: DeploymentView | None, series: Series | None,
                pair: Mapping[str, Any] | None) -> Text:
    text = Text(name, style="bold")
    if view is not None:
        text.append(f"  {view.traffic}%" + (f" (mirror {view.mirror}%)" if view.mirror
                                            else ""))
    latest = series.latest if series else None
    if latest is None:
        text.append("\nno router metrics yet", style="dim")
    else:
        rate = latest.errors / latest.requests if latest.requests else 0.0
        text.append(f"\n{series.current_rps if series else 0:.1f} req/s"
                    f"\np50 {_ms(latest.p50_ms)}  p99 {_ms(latest.p99_ms)}")
        text.append(f"\nerrors {rate:.2%} of {latest.requests}",
                    style="red" if latest.errors else "")
    text.append("\n" + agreement_text(pair))
    return text


def agreement_text(pair: Mapping[str, Any] | None) -> str:
    """``agreement 99.50% with blue (400 compared)`` for a mirrored deployment."""
    if not pair:
        return "not mirrored"
    rate = pair.get("agreement_rate")
    if rate is None:
        return f"mirrored from {pair['live_deployment']}: nothing compared yet"
    shadow = pair["shadow"]
    return (f"agreement {rate:.2%} with {pair['live_deployment']} "
            f"({pair['compared']} compared)\nas mirror: p50 {_ms(shadow['p50_ms'])}  "
            f"p99 {_ms(shadow['p99_ms'])}  errors {shadow['error_rate']:.2%}")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"
