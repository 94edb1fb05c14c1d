"""Side by side: an endpoint's deployments next to each other, with the shadow diff.

One column per deployment (:class:`~devkit.tui.widgets.deployment_column.DeploymentColumn`)
and, under them, the latest disagreement between a live answer and its mirrored copy as
a readable diff (``-`` live, ``+`` shadow). The screen polls the backend in a thread
worker, like the main screen, and keeps its own sparkline history.

``R`` starts a rollout (:mod:`devkit.actions.rollout`) in a thread worker; its events
appear under the columns as they happen, and ``a`` aborts it: the traffic stays where the
last completed step put it, as Ctrl-C does for ``devkit rollout``; leaving the screen
does the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from devkit.actions.compare import ShadowReport, render_disagreement
from devkit.actions.rollout import Event, RolloutOutcome
from devkit.errors import DevkitError
from devkit.tui.backend import Backend
from devkit.tui.history import MetricsHistory
from devkit.tui.screens.rollout import RolloutRequest, RolloutScreen
from devkit.tui.views import EndpointView, Metrics
from devkit.tui.widgets.deployment_column import DeploymentColumn


class SideBySideScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("R", "rollout", "Roll out"),
        Binding("a", "abort", "Abort rollout"),
    ]

    @dataclass
    class Polled(Message):
        report: ShadowReport | None
        error: str | None
        at: float

    @dataclass
    class Rollout(Message):
        """A rollout event, its end (``outcome``), or its failure (``error``)."""

        event: Event | None = None
        outcome: RolloutOutcome | None = None
        error: str | None = None

    def __init__(self, backend: Backend, view: EndpointView, poll_s: float = 1.0) -> None:
        super().__init__()
        self.backend = backend
        self.view = view
        self.poll_s = poll_s
        self.history = MetricsHistory()
        self.report: ShadowReport | None = None
        self.polls = 0  # tests wait on it
        self.rollout_lines: list[str] = []
        self.outcome: RolloutOutcome | None = None
        self._stop: threading.Event | None = None
        self.sub_title = f"{view.name}: deployments side by side"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="columns"):
            for dep in self.view.deployments:
                yield DeploymentColumn(dep.name, id=f"col-{dep.name}", classes="column")
        yield Static(id="rollout")
        with VerticalScroll(id="disagreement-box"):
            yield Static(id="disagreement")
        yield Footer()

    def on_mount(self) -> None:
        self.poll()
        if self.poll_s > 0:
            self.set_interval(self.poll_s, self.poll)

    def poll(self) -> None:
        self._poll()

    @work(thread=True, exclusive=True, group="side-by-side")
    def _poll(self) -> None:
        try:
            report, error = self.backend.side_by_side(self.view), None
        except DevkitError as exc:
            report, error = None, str(exc)
        self.post_message(self.Polled(report, error, time.monotonic()))

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        self.polls += 1
        if message.error:
            self.query_one("#disagreement", Static).update(Text(message.error, style="red"))
            return
        self.report = message.report
        assert message.report is not None
        metrics = {n: Metrics.from_json(m) for n, m in message.report.deployments.items()}
        self.history.record(self.view.name, metrics, message.at)
        for dep in self.view.deployments:
            live = message.report.deployments.get(dep.name, {})
            # the router's weights, not the poll's that opened the screen: a rollout moves them
            shown = replace(dep, traffic=int(live.get("weight", dep.traffic)),
                            mirror=int(live.get("mirror", dep.mirror)))
            self.query_one(f"#col-{dep.name}", DeploymentColumn).show(
                shown, self.history.of(self.view.name, dep.name),
                shadow_pair(message.report, dep.name))
        self.query_one("#disagreement", Static).update(latest_disagreement(message.report))


    # -- rollout ------------------------------------------------------------------------
    def action_rollout(self) -> None:
        if self._stop is not None:
            self.notify("A rollout is already running; a aborts it.", severity="warning")
            return
        self.app.push_screen(RolloutScreen(self.view), self._chosen)

    def _chosen(self, request: RolloutRequest | None) -> None:
        if request is None:
            return
        self._stop = threading.Event()
        self.outcome = None
        self.rollout_lines = []
        self._roll(request, self._stop)

    @work(thread=True, group="rollout")
    def _roll(self, request: RolloutRequest, stop: threading.Event) -> None:
        def report(event: Event) -> None:
            self.post_message(self.Rollout(event=event))
        try:
            outcome = self.backend.rollout(self.view, request.candidate, request.plan,
                                           report, stop)
        except DevkitError as exc:
            self.post_message(self.Rollout(error=str(exc)))
            return
        self.post_message(self.Rollout(outcome=outcome))

    def on_unmount(self) -> None:
        """Leaving the screen stops a running rollout (traffic stays at its last step):
        nothing would be left to show it or to abort it."""
        if self._stop is not None:
            self._stop.set()

    def action_abort(self) -> None:
        if self._stop is None:
            self.notify("No rollout is running.", severity="warning")
            return
        self._stop.set()

    @on(Rollout)
    def _rolled(self, message: Rollout) -> None:
        if message.event is not None:
            self.rollout_lines = (self.rollout_lines + [message.event.message])[-8:]
        if message.error is not None:
            self._stop = None
            self.notify(message.error, severity="error", timeout=10)
        if message.outcome is not None:
            self._stop = None
            self.outcome = message.outcome
            self.notify(message.outcome.events[-1].message,
                        severity="information" if message.outcome.ok else "warning")
        self.query_one("#rollout", Static).update(
            Text("rollout\n", style="bold").append("\n".join(self.rollout_lines))
            if self.rollout_lines else "")


def shadow_pair(report: ShadowReport, deployment: str) -> Mapping[str, Any] | None:
    """The pair in which ``deployment`` is the mirrored (shadow) side, with the most
    comparisons."""
    pairs = [p for p in report.pairs if p["shadow_deployment"] == deployment]
    return max(pairs, key=lambda p: p["compared"]) if pairs else None


def latest_disagreement(report: ShadowReport) -> Text:
    entries = [p["recent"][-1] for p in report.pairs if p.get("recent")]
    if not entries:
        return Text("No disagreement between live and mirrored answers so far." if
                    report.pairs else "Nothing mirrored yet: mirror a deployment (t) to "
                    "compare its answers with the live ones.", style="dim")
    latest = max(entries, key=lambda e: e["time"])
    text = Text("latest disagreement\n", style="bold")
    for line in render_disagreement(latest):
        style = "red" if line.startswith("  - ") else "green" if line.startswith("  + ") \
            else ""
        text.append(line + "\n", style=style)
    return text
