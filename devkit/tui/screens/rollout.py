"""Start a rollout: which deployment, the steps, the interval and the thresholds, parsed
as the CLI parses them (:mod:`devkit.actions.units`); returns the plan, run by the caller."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from devkit.actions.rollout import RolloutPlan
from devkit.actions.units import parse_duration, parse_percent, parse_steps
from devkit.errors import DevkitError
from devkit.tui.views import EndpointView

FIELDS = (("candidate", "deployment"), ("steps", "steps %"), ("interval", "interval"),
          ("max-error-rate", "max error rate"), ("min-requests", "min requests/step"))


@dataclass(frozen=True)
class RolloutRequest:
    candidate: str
    plan: RolloutPlan


class RolloutScreen(ModalScreen[RolloutRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Start the rollout"),
    ]

    def __init__(self, view: EndpointView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        idle = [d.name for d in self.view.deployments if not d.traffic]
        values = {"candidate": idle[0] if idle else "", "steps": "10,25,50,100",
                  "interval": "30s", "max-error-rate": "1%", "min-requests": "50"}
        with Vertical(classes="dialog"):
            yield Label(f"Roll out on {self.view.name}", classes="question")
            with Grid(id="rollout-grid"):
                for key, label in FIELDS:
                    yield Label(label)
                    yield Input(values[key], id=f"r-{key}", compact=True)
            yield Static("", id="rollout-error")
            yield Label("enter/ctrl+s start  ·  esc cancel", classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    def request(self) -> RolloutRequest:
        """What the fields say; a DevkitError naming the wrong one."""
        candidate = self._value("candidate")
        if self.view.deployment(candidate) is None:
            names = ", ".join(d.name for d in self.view.deployments)
            raise DevkitError(f"'{candidate}' is not a deployment of {self.view.name} "
                              f"({names}).")
        try:
            min_requests = int(self._value("min-requests"))
        except ValueError:
            raise DevkitError("min requests must be a whole number, like 50.") from None
        plan = RolloutPlan(steps=parse_steps(self._value("steps")),
                           interval_s=parse_duration(self._value("interval")),
                           max_error_rate=parse_percent(self._value("max-error-rate")),
                           min_requests=min_requests)
        return RolloutRequest(candidate, plan)

    def action_start(self) -> None:
        try:
            chosen = self.request()
        except DevkitError as exc:
            self.query_one("#rollout-error", Static).update(f"✗ {exc}")
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _value(self, key: str) -> str:
        return self.query_one(f"#r-{key}", Input).value.strip()
