"""The thin Textual App and the factory the CLI and the tests both use.

The App only wires things: the backend into the main screen, global bindings (quit, help,
palette), and the command palette entries that mirror the main screen's actions. Screens
and widgets do the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from devkit.tui.backend import Backend
from devkit.tui.screens.main import MainScreen

# (action on the main screen, palette title, help line); the palette mirrors the bindings.
PALETTE = (
    ("up", "Up", "Start or update the selected endpoint (builds what changed)"),
    ("down", "Down", "Stop and remove the selected endpoint (asks first)"),
    ("restart", "Rebuild and restart", "Remove the endpoint and start it again (asks first)"),
    ("reload", "Reload", "Reload the selected deployment's scoring code in place"),
    ("debug", "Debug", "Put the selected deployment under debugpy and show how to attach"),
    ("traffic", "Edit traffic", "Change live weights and mirror, applied by the router"),
    ("keys", "Keys", "Show or regenerate the endpoint's keys (or a token)"),
    ("logs_full", "Logs full screen", "Follow the selection's logs on a whole screen"),
    ("side_by_side", "Side by side", "Deployments next to each other, with the shadow diff"),
)


class DevkitApp(App[None]):
    CSS_PATH = "devkit.tcss"
    TITLE = "devkit"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "toggle_help", "Keys help", key_display="?"),
    ]

    def __init__(self, backend: Backend, poll_s: float = 1.0) -> None:
        super().__init__()
        self.backend = backend
        self.poll_s = poll_s

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.backend, self.poll_s))

    @property
    def main(self) -> MainScreen:
        return self.query_one_screen()

    def query_one_screen(self) -> MainScreen:
        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for action, title, help_text in PALETTE:
                yield SystemCommand(title, help_text, partial(screen.run_action, action))


def create_app(paths: Sequence[Path] = (), *, engines: Sequence[str] | None = None,
               up_engine: str | None = None, poll_s: float = 1.0) -> DevkitApp:
    """The TUI for the endpoints in ``paths`` (default: the current folder) plus whatever
    ``engines`` run (default: every engine that answers). ``up_engine`` picks where ``u``
    starts an endpoint; ``poll_s`` 0 polls once (for snapshots of a still state)."""
    explicit = bool(paths)
    backend = Backend(list(paths) or [Path.cwd()], engines, up_engine,
                      quiet_missing_spec=not explicit)
    return DevkitApp(backend, poll_s)
