"""Logs full screen: the same panel as the main screen's Logs tab, with all the room."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from devkit.tui.backend import Backend
from devkit.tui.widgets.logs import LogPanel


class LogsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("p", "pause", "Pause/resume"),
        Binding("c", "copy", "Copy shown lines"),
        Binding("slash", "filter", "Filter", key_display="/"),
    ]

    def __init__(self, backend: Backend, endpoint: str, deployment: str | None) -> None:
        super().__init__()
        self.backend = backend
        self.source = (endpoint, deployment)
        self.sub_title = f"logs of {endpoint}" + (f" / {deployment}" if deployment else "")

    def compose(self) -> ComposeResult:
        yield Header()
        yield LogPanel(self.backend, id="full-logs")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LogPanel).follow(*self.source, running=True)

    def action_pause(self) -> None:
        paused = self.query_one(LogPanel).toggle_pause()
        self.notify("Logs paused." if paused else "Logs resumed.")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.query_one(LogPanel).visible_text())
        self.notify("Shown log lines copied to the clipboard.")

    def action_filter(self) -> None:
        self.query_one("#log-filter").focus()
