"""What the TUI shows for ``a``: the latest events data collection wrote for the selection.

The same lines as ``devkit data`` (:func:`devkit.collection.reader.describe`), read in a
thread worker of the main screen and shown in a :class:`~devkit.tui.screens.text.TextScreen`.
"""

from __future__ import annotations

from textual.screen import Screen

from devkit.collection.reader import describe, folders_of, latest
from devkit.errors import DevkitError
from devkit.tui.screens.text import TextScreen

SHOWN = 30


def latest_payloads(endpoint: str, deployment: str | None) -> tuple[str, str]:
    """(title, text) of the latest events; raises EndpointNotFound when nothing collects."""
    events = latest(folders_of(endpoint, deployment), None, SHOWN)
    where = f"{endpoint}/{deployment}" if deployment else endpoint
    title = f"Latest collected data of {where} ({len(events)} events; `devkit data` for more)"
    text = "\n".join(describe(item) for item in events) or "Nothing collected yet."
    return title, text


def show_latest(screen: Screen[None], endpoint: str, deployment: str | None) -> None:
    """Read in a thread worker (files, never on the UI thread); show or notify."""
    def fetch() -> None:
        try:
            title, text = latest_payloads(endpoint, deployment)
        except DevkitError as exc:
            screen.app.call_from_thread(screen.notify, str(exc), severity="error")
            return
        screen.app.call_from_thread(screen.app.push_screen, TextScreen(title, text))

    screen.run_worker(fetch, thread=True, group="data", exclusive=True)
