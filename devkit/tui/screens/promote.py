"""Promote the selected endpoint: the plan in a confirmation screen, then the apply with
its progress streamed into the same screen. Building and planning run in a worker; the
screen returns the result sentence (or None when declined or failed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Log

from devkit.errors import DevkitError
from devkit.tui import targets
from devkit.tui.views import EndpointView


class PromoteScreen(ModalScreen["str | None"]):
    BINDINGS = [
        Binding("y", "apply", "Apply the plan"),
        Binding("n,escape", "close", "Close"),
    ]

    def __init__(self, spec_dir: Path, target: str) -> None:
        super().__init__()
        self.spec_dir = spec_dir
        self.target = target
        self.ready = False
        self.outcome: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Promote {self.spec_dir.name} to target {self.target}",
                        classes="question")
            yield Log(id="promote-log", classes="text-body")
            with Horizontal(classes="buttons"):
                yield Button("Apply (y)", id="yes", variant="error", disabled=True)
                yield Button("Close (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        self._plan()

    def _say(self, line: str) -> None:
        self.app.call_from_thread(self.query_one(Log).write_line, line)

    @work(thread=True, exclusive=True, group="promote")
    def _plan(self) -> None:
        try:
            result = targets.plan(self.spec_dir, self.target, self._say)
        except DevkitError as exc:
            self._say(f"error: {exc}")
            return
        assert result.plan is not None
        self._say(result.plan.render())
        self.app.call_from_thread(self._planned, not result.plan.nothing_to_do)

    def _planned(self, changes: bool) -> None:
        self.ready = changes
        self.query_one("#yes", Button).disabled = not changes

    def action_apply(self) -> None:
        if self.ready:
            self.ready = False
            self.query_one("#yes", Button).disabled = True
            self._apply()

    @work(thread=True, exclusive=True, group="promote")
    def _apply(self) -> None:
        try:
            result = targets.apply(self.spec_dir, self.target, self._say)
        except DevkitError as exc:
            self._say(f"error: {exc}")
            return
        uri = result.status.scoring_uri if result.status else "?"
        self.outcome = f"Promoted to {self.target} in {result.seconds:.0f} s, serving at {uri}."
        self._say(self.outcome)

    def action_close(self) -> None:
        self.dismiss(self.outcome)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.action_apply()
        else:
            self.action_close()


def open_promote(screen: Any, view: EndpointView | None) -> None:
    """P on the main screen: the plan for the selected endpoint's target, in this modal."""
    if view is None or view.spec_dir is None:
        screen.notify("Select an endpoint whose spec folder is known to promote it.",
                      severity="warning")
        return
    from devkit.tui.targets import target_for

    spec = screen.backend.spec(view.name)
    try:
        target = target_for(view.spec_dir, spec.spec.compute if spec else None)
    except DevkitError as exc:
        screen.notify(str(exc), severity="error", timeout=10)
        return
    screen.app.push_screen(PromoteScreen(view.spec_dir, target.name),
                           lambda note: screen.notify(note) if note else None)
