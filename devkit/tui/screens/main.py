"""The main screen: the endpoint tree beside overview/logs/invoke tabs, and every action on
the selection. It polls the backend in a thread worker about once a second; actions run in
thread workers too, showing a TUI-side state (building, reloading, debugging) while they
run, and end as a notification with the sentence the CLI would print."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from devkit.errors import DevkitError
from devkit.reload import ReplicaReload, summary
from devkit.spec import format_weights
from devkit.tui.backend import Backend
from devkit.tui.history import MetricsHistory
from devkit.tui.screens.confirm import ConfirmScreen
from devkit.tui.screens.data import show_latest
from devkit.tui.screens.guards import need_deployment, need_view
from devkit.tui.screens.keys import KeysScreen
from devkit.tui.screens.logs import LogsScreen
from devkit.tui.screens.side_by_side import SideBySideScreen
from devkit.tui.screens.text import TextScreen
from devkit.tui.screens.traffic import TrafficEdit, TrafficScreen
from devkit.tui.views import (
    BUILDING,
    DEBUGGING,
    RELOADING,
    STARTING,
    EndpointView,
    Metrics,
    Snapshot,
    overlaid,
)
from devkit.tui.widgets.endpoint_tree import EndpointTree, Selection
from devkit.tui.widgets.invoke import InvokePanel
from devkit.tui.widgets.logs import LogPanel
from devkit.tui.widgets.overview import Overview

Key = tuple[str, "str | None"]  # (endpoint, deployment or None for the whole endpoint)


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("u", "up", "Up"),
        Binding("d", "down", "Down"),
        Binding("b", "restart", "Rebuild/restart"),
        Binding("r", "reload", "Reload"),
        Binding("g", "debug", "Debug"),
        Binding("t", "traffic", "Traffic"),
        Binding("k", "keys", "Keys"),
        Binding("P", "promote", "Promote to a target"),
        Binding("l", "logs_full", "Logs full screen"),
        Binding("v", "side_by_side", "Side by side"),
        Binding("o", "tab('overview')", "Overview tab", show=False),
        Binding("i", "tab('invoke')", "Invoke tab", show=False),
        Binding("L", "tab('logs')", "Logs tab", show=False),
        Binding("s", "send", "Send request (invoke tab)", show=False),
        Binding("p", "pause_logs", "Pause/resume logs", show=False),
        Binding("h", "probes", "Show/hide probe lines in logs", show=False),
        Binding("c", "copy_logs", "Copy shown log lines", show=False),
        Binding("a", "data", "Latest collected data (data_collector)", show=False),
    ]

    @dataclass
    class Polled(Message):
        snapshot: Snapshot
        metrics: dict[str, dict[str, Metrics]]
        reload: ReplicaReload | None
        at: float

    @dataclass
    class Progress(Message):
        endpoint: str
        line: str

    @dataclass
    class Done(Message):
        """An action ended: ``note`` to show, or ``error`` (a DevkitError sentence)."""

        key: Key
        note: str | None = None
        error: str | None = None
        reload: list[ReplicaReload] = field(default_factory=list)
        dialog: tuple[str, str] | None = None  # (title, text) to open when done
        debug_on: bool | None = None  # the deployment is now (not) under the debugger

    def __init__(self, backend: Backend, poll_s: float = 1.0) -> None:
        super().__init__()
        self.backend = backend
        self.poll_s = poll_s
        self.snapshot = Snapshot()
        self.selection: Selection | None = None
        self.busy: dict[Key, str] = {}
        self.debugged: set[Key] = set()  # deployments this TUI put under debugpy
        self.history = MetricsHistory()
        self.reloads: dict[Key, ReplicaReload] = {}
        self.progress: dict[str, list[str]] = {}
        self.polls = 0  # completed polls; tests wait on it

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield EndpointTree(id="tree")
            with TabbedContent(id="tabs"):
                with TabPane("Overview", id="overview"):
                    yield Overview(id="overview-panel")
                with TabPane("Logs", id="logs"):
                    yield LogPanel(self.backend, id="log-panel")
                with TabPane("Invoke", id="invoke"):
                    yield InvokePanel(self.backend, id="invoke-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EndpointTree).focus()
        self.poll()
        if self.poll_s > 0:
            self.set_interval(self.poll_s, self.poll)

    # -- polling ----------------------------------------------------------------------------
    def poll(self) -> None:
        self._poll(self.selection)

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self, selection: Selection | None) -> None:
        snapshot = self.backend.snapshot()
        metrics = {}
        for view in snapshot.endpoints:
            found = self.backend.metrics(view) if view.running else None
            if found is not None:
                metrics[view.name] = found
        reload = None
        if selection is not None and selection.deployment is not None:
            chosen = snapshot.endpoint(selection.endpoint)
            if chosen is not None and chosen.running:
                reload = self.backend.reload_outcome(chosen, selection.deployment)
        self.post_message(self.Polled(snapshot, metrics, reload, time.monotonic()))

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        self.polls += 1
        self.snapshot = message.snapshot
        for endpoint, metrics in message.metrics.items():
            self.history.record(endpoint, metrics, message.at)
        if message.reload is not None and self.selection is not None:
            self.reloads[(self.selection.endpoint, self.selection.deployment)] = message.reload
        for error in message.snapshot.errors:
            self.notify(error, severity="error", timeout=10)
        self.query_one(EndpointTree).show(self.shown_snapshot())
        self.refresh_panels()

    def shown_snapshot(self) -> Snapshot:
        """The snapshot with the TUI's own in-flight states laid over the engine's."""
        return overlaid(self.snapshot, {key: DEBUGGING for key in self.debugged} | self.busy)

    def refresh_panels(self) -> None:
        view = self.current_view()
        deployment = self.selection.deployment if self.selection else None
        series = self.history.of(view.name, deployment) if view and deployment else None
        key = (view.name, deployment) if view else None
        self.query_one(Overview).show(view, deployment, series, self.reloads.get(key)
                                      if key else None,
                                      self.progress.get(view.name, []) if view else [])
        if view is not None:
            self.query_one(LogPanel).follow(view.name, deployment, view.running)
            self.query_one(InvokePanel).point_at(view, deployment)

    def current_view(self) -> EndpointView | None:
        shown = self.shown_snapshot()
        if self.selection is not None:
            found = shown.endpoint(self.selection.endpoint)
            if found is not None:
                return found
        return shown.endpoints[0] if shown.endpoints else None

    @on(EndpointTree.Selected)
    def _selected(self, message: EndpointTree.Selected) -> None:
        self.selection = message.selection
        self.refresh_panels()

    # -- actions ----------------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_send(self) -> None:
        self.action_tab("invoke")
        self.query_one(InvokePanel).action_send()

    def action_probes(self) -> None:
        shown = self.query_one(LogPanel).toggle_probes()
        self.notify("Probe lines shown." if shown else "Probe lines hidden.")

    def action_up(self) -> None:
        view = need_view(self)
        if view is not None:
            self.progress[view.name] = []
            self._start((view.name, None), BUILDING if not view.running else STARTING,
                        lambda: self._up(view.name))

    def _up(self, endpoint: str) -> str:
        self.backend.up(endpoint, self._reporter(endpoint))
        return f"{endpoint} is up."

    def action_down(self) -> None:
        view = need_view(self, running=True)
        if view is not None:
            self._confirm(f"Stop and remove every replica of '{view.name}'?",
                          lambda: self._start((view.name, None), "stopping",
                                              lambda: self._down(view.name)))

    def _down(self, endpoint: str) -> str:
        self.backend.down(endpoint)
        return f"{endpoint} is down; nothing of it is left running."

    def action_restart(self) -> None:
        view = need_view(self, running=True)
        if view is not None:
            def restart() -> str:
                self.backend.restart(view.name, self._reporter(view.name))
                return f"{view.name} was rebuilt where needed and restarted."
            self._confirm(f"Remove '{view.name}' and start it again (drops in-flight "
                          "requests)?", lambda: self._start((view.name, None), BUILDING,
                                                            restart))

    def action_reload(self) -> None:
        view, deployment = need_deployment(self)
        if view is not None and deployment is not None:
            self._start((view.name, deployment), RELOADING,
                        lambda: self.backend.reload(view, deployment), reload=True)

    def action_debug(self) -> None:
        """Start debugging the selected deployment; pressed again, stop (after asking)."""
        view, deployment = need_deployment(self)
        if view is None or deployment is None:
            return
        key = (view.name, deployment)
        report = self._reporter(view.name)
        if key in self.debugged:
            def stop() -> str:
                return self.backend.debug(view.name, deployment, report, off=True)
            self._confirm(f"Stop debugging '{deployment}' and restart it as its spec says?",
                          lambda: self._start(key, STARTING, stop, debug_on=False))
            return

        def debug() -> tuple[str, str]:
            text = self.backend.debug(view.name, deployment, report)
            return f"Debugging {deployment} (g again stops)", text
        self._start(key, DEBUGGING, debug, dialog=True, debug_on=True)

    def action_traffic(self) -> None:
        view = need_view(self)
        if view is not None:
            self.app.push_screen(TrafficScreen(view), self._traffic_chosen)

    def _traffic_chosen(self, edit: TrafficEdit | None) -> None:
        view = need_view(self)
        if edit is None or view is None:
            return

        def apply() -> str:
            applied = self.backend.set_traffic(view.name, edit.traffic, edit.mirror)
            how = "applied live by the router" if applied else "saved; it applies when it runs"
            return f"Traffic of {view.name} now {format_weights(edit.traffic, edit.mirror)}; {how}."
        self._start((view.name, None), None, apply)

    def action_promote(self) -> None:
        from devkit.tui.screens.promote import open_promote

        open_promote(self, need_view(self))

    def action_keys(self) -> None:
        view = need_view(self)
        if view is not None:
            self._fetch_keys(view.name)

    @work(thread=True, group="keys")
    def _fetch_keys(self, endpoint: str) -> None:
        try:
            found = self.backend.credentials(endpoint)
        except DevkitError as exc:
            self.post_message(self.Done((endpoint, None), error=str(exc)))
            return
        self.app.call_from_thread(self._show_keys, endpoint, found)

    def _show_keys(self, endpoint: str, found: dict[str, str]) -> None:
        def chosen(which: str | None) -> None:
            if which:
                self._confirm(f"Regenerate the {which} key of '{endpoint}'? Clients using "
                              "it get 401 from now on.",
                              lambda: self._start((endpoint, None), None,
                                                  lambda: self._regenerate(endpoint, which)))
        self.app.push_screen(KeysScreen(endpoint, found), chosen)

    def _regenerate(self, endpoint: str, which: str) -> str:
        self.backend.credentials(endpoint, regenerate=which)
        return f"The {which} key of {endpoint} was regenerated; press k to see it."
    def action_logs_full(self) -> None:
        view = need_view(self, running=True)
        if view is not None:
            deployment = self.selection.deployment if self.selection else None
            self.app.push_screen(LogsScreen(self.backend, view.name, deployment))

    def action_data(self) -> None:
        view = need_view(self)
        if view is not None:
            show_latest(self, view.name, self.selection.deployment if self.selection else None)

    def action_side_by_side(self) -> None:
        view = need_view(self, running=True)
        if view is not None:
            self.app.push_screen(SideBySideScreen(self.backend, view, self.poll_s))

    def action_pause_logs(self) -> None:
        paused = self.query_one(LogPanel).toggle_pause()
        self.notify("Logs paused." if paused else "Logs resumed.")

    def action_copy_logs(self) -> None:
        self.app.copy_to_clipboard(self.query_one(LogPanel).visible_text())
        self.notify("Shown log lines copied to the clipboard.")

    # -- running actions --------------------------------------------------------------------
    def _start(self, key: Key, state: str | None, job: Callable[[], object], *,
               reload: bool = False, dialog: bool = False,
               debug_on: bool | None = None) -> None:
        if state is not None:
            self.busy[key] = state
            self.query_one(EndpointTree).show(self.shown_snapshot())
            self.refresh_panels()
        self._run(key, job, reload, dialog, debug_on)

    @work(thread=True, group="actions")
    def _run(self, key: Key, job: Callable[[], object], reload: bool, dialog: bool,
             debug_on: bool | None) -> None:
        try:
            result = job()
        except DevkitError as exc:
            self.post_message(self.Done(key, error=str(exc)))
            return
        if reload:
            assert isinstance(result, list)
            self.post_message(self.Done(key, reload=result))
        elif dialog:
            assert isinstance(result, tuple)
            self.post_message(self.Done(key, dialog=result, debug_on=debug_on))
        else:
            self.post_message(self.Done(key, note=str(result), debug_on=debug_on))

    @on(Done)
    def _done(self, message: Done) -> None:
        self.busy.pop(message.key, None)
        if message.debug_on is not None and not message.error:
            (self.debugged.add if message.debug_on else self.debugged.discard)(message.key)
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
        if message.note:
            self.notify(message.note)
        if message.reload:
            self._reloaded(message.key, message.reload)
        if message.dialog:
            self.app.push_screen(TextScreen(*message.dialog))
        self.poll()

    def _reloaded(self, key: Key, outcomes: list[ReplicaReload]) -> None:
        failed = next((o for o in outcomes if not o.ok), None)
        self.reloads[key] = failed or outcomes[0]
        self.notify("\n".join(summary(outcomes)),
                    severity="error" if failed else "information", timeout=8)

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        lines = self.progress.setdefault(message.endpoint, [])
        lines.append(message.line)
        del lines[:-50]
        self.refresh_panels()

    # -- helpers ----------------------------------------------------------------------------
    def _reporter(self, endpoint: str) -> Callable[[str], None]:
        """A progress callback for engines, safe to call from a worker thread."""
        def report(line: str) -> None:
            self.post_message(self.Progress(endpoint, line))
        return report

    def _confirm(self, question: str, then: Callable[[], None]) -> None:
        self.app.push_screen(ConfirmScreen(question), lambda yes: then() if yes else None)
