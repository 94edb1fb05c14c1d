"""Edit an endpoint's live weights and mirror, validated as you type by the spec's rules
(:func:`devkit.spec.validate_traffic`); returns the new weights, applied by the caller."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from devkit.errors import SpecError
from devkit.spec import validate_traffic
from devkit.tui.views import EndpointView


@dataclass(frozen=True)
class TrafficEdit:
    traffic: dict[str, int]
    mirror: dict[str, int]


class TrafficScreen(ModalScreen[TrafficEdit | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply live"),
    ]

    def __init__(self, view: EndpointView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Traffic of {self.view.name}", classes="question")
            with Grid(id="traffic-grid"):
                yield Label("deployment")
                yield Label("live %")
                yield Label("mirror %")
                for dep in self.view.deployments:
                    yield Label(dep.name)
                    yield Input(str(dep.traffic), id=f"w-{dep.name}", type="integer",
                                compact=True)
                    yield Input(str(dep.mirror), id=f"m-{dep.name}", type="integer",
                                compact=True)
            yield Static("", id="traffic-error")
            yield Label("enter/ctrl+s apply live  ·  esc cancel", classes="hint")

    def on_mount(self) -> None:
        self._validate()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._validate()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def edit(self) -> TrafficEdit:
        traffic = {d.name: _number(self, f"#w-{d.name}") for d in self.view.deployments}
        mirror = {d.name: _number(self, f"#m-{d.name}") for d in self.view.deployments}
        return TrafficEdit(traffic, {n: p for n, p in mirror.items() if p})

    def _validate(self) -> str | None:
        """The rule the weights break, shown under the grid; None when they are valid."""
        try:
            edit = self.edit()
            validate_traffic([d.name for d in self.view.deployments], edit.traffic,
                             edit.mirror)
        except (SpecError, ValueError) as exc:
            message = getattr(exc, "reason", None) or str(exc)
            self.query_one("#traffic-error", Static).update(f"✗ {message}")
            return str(message)
        total = sum(edit.traffic.values())
        self.query_one("#traffic-error", Static).update(f"✓ valid (sum {total})")
        return None

    def action_apply(self) -> None:
        problem = self._validate()
        if problem is None:
            self.dismiss(self.edit())
        else:
            self.notify(problem, severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)


def _number(screen: TrafficScreen, selector: str) -> int:
    raw = screen.query_one(selector, Input).value.strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"'{raw}' is not a whole-number percentage") from None
