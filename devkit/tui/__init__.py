"""devkit's terminal UI (Textual): watch, poke and steer local endpoints.

Public surface: :func:`create_app` (used by ``devkit`` on a terminal and by the tests)
and :func:`run`. Layout: :mod:`.backend` does every blocking call (engines, router, HTTP)
and is only called from workers; :mod:`.views` is the data the widgets show; one module
per screen under :mod:`.screens`, per panel under :mod:`.widgets`; styles in
``devkit.tcss``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from devkit.tui.app import DevkitApp, create_app

__all__ = ["DevkitApp", "create_app", "run"]


def run(paths: Sequence[Path] = (), engine: str | None = None) -> None:
    """Open the TUI in this terminal until the user quits."""
    create_app(paths, up_engine=engine).run()
