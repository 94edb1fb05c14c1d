"""What an action on the main screen needs before it starts: an endpoint (running, when it
must be) or a deployment selected in the tree; otherwise one warning says what to do."""

from __future__ import annotations

from typing import Any, Protocol

from devkit.tui.views import EndpointView
from devkit.tui.widgets.endpoint_tree import Selection


class Host(Protocol):
    """The screen: its selection, the endpoint it shows, and its notifications."""

    selection: Selection | None

    def current_view(self) -> EndpointView | None: ...

    def notify(self, message: str, *, severity: Any = ...) -> None: ...


def need_view(host: Host, running: bool = False) -> EndpointView | None:
    view = host.current_view()
    if view is None:
        host.notify("No endpoint here: run `devkit` in a folder with an endpoint.yml.",
                    severity="warning")
    elif running and not view.running:
        host.notify(f"{view.name} is not running; start it with u.", severity="warning")
        return None
    return view


def need_deployment(host: Host) -> tuple[EndpointView | None, str | None]:
    view = need_view(host, running=True)
    if view is None:
        return None, None
    if host.selection is None or host.selection.deployment is None:
        host.notify("Select a deployment in the tree first.", severity="warning")
        return None, None
    return view, host.selection.deployment
