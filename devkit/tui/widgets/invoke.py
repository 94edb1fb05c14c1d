"""The invoke panel: a request (from a file or typed JSON) sent to the endpoint or pinned
to one deployment, the answer (status, answering deployment, headers, pretty body,
latency), and a history of what was sent this session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, OptionList, Select, Static, TextArea

from devkit.errors import DevkitError
from devkit.tui.backend import Backend
from devkit.tui.views import EndpointView, InvokeResult

ENDPOINT = "\x00endpoint"  # the Select value meaning "the endpoint's weighted split"


class InvokePanel(Vertical):
    """Owns its requests: sends in a thread worker, shows results as they come back."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send request"),
        Binding("ctrl+o", "load_file", "Load request file"),
    ]

    @dataclass
    class Answered(Message):
        result: InvokeResult

    @dataclass
    class Loaded(Message):
        body: str

    @dataclass
    class Failed(Message):
        error: str

    def __init__(self, backend: Backend, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.view: EndpointView | None = None
        self.history: list[InvokeResult] = []
        self._targets: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal(classes="invoke-row"):
            yield Input(placeholder="request file", id="request-file", compact=True)
            yield Button("Load", id="load", compact=True)
        with Horizontal(classes="invoke-row"):
            yield Select([("endpoint (traffic split)", ENDPOINT)], value=ENDPOINT,
                         allow_blank=False, id="target", compact=True)
            yield Button("Send", id="send", variant="primary", compact=True)
        yield TextArea("", language="json", id="body", show_line_numbers=False)
        with VerticalScroll(id="response-box"):
            yield Static("Send a request with ctrl+s.", id="response")
        yield OptionList(id="history")

    def point_at(self, view: EndpointView, deployment: str | None) -> None:
        """Aim at ``view``: its deployments as targets, its sample request by default."""
        endpoint_changed = self.view is None or self.view.name != view.name
        self.view = view
        target = self.query_one("#target", Select)
        names = [d.name for d in view.deployments]
        if endpoint_changed or self._targets != names:
            self._targets = names
            target.set_options([("endpoint (traffic split)", ENDPOINT)]
                               + [(f"pin: {n}", n) for n in names])
        if endpoint_changed:
            target.value = ENDPOINT
            path = view.request_file
            self.query_one("#request-file", Input).value = _shown(path) if path else ""
            if path is not None:
                self._load(path)

    def action_send(self) -> None:
        if self.view is None:
            self.notify("Select an endpoint first.", severity="warning")
            return
        value = self.query_one("#target", Select).value
        target = None if value == ENDPOINT else str(value)
        self.query_one("#response", Static).update(Text("sending…", style="dim"))
        self._send(self.view, target, self.query_one("#body", TextArea).text)

    def action_load_file(self) -> None:
        raw = self.query_one("#request-file", Input).value.strip()
        if raw:
            self._load(Path(raw).expanduser())

    @on(Button.Pressed, "#send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    @on(Button.Pressed, "#load")
    def _load_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_load_file()

    @on(Input.Submitted, "#request-file")
    def _file_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_load_file()

    @work(thread=True, exclusive=True, group="invoke")
    def _send(self, view: EndpointView, target: str | None, body: str) -> None:
        try:
            self.post_message(self.Answered(self.backend.invoke(view, target, body)))
        except DevkitError as exc:
            self.post_message(self.Failed(str(exc)))

    @work(thread=True, exclusive=True, group="invoke-file")
    def _load(self, path: Path) -> None:
        try:
            self.post_message(self.Loaded(self.backend.read_request(path)))
        except DevkitError as exc:
            self.post_message(self.Failed(str(exc)))

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        self.history.append(message.result)
        history = self.query_one("#history", OptionList)
        history.add_option(f"{len(self.history)}. {message.result.target}: "
                           f"{message.result.summary()}")
        history.highlighted = len(self.history) - 1
        self._show(message.result)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.query_one("#body", TextArea).text = message.body

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.query_one("#response", Static).update(Text(message.error, style="red"))
        self.notify(message.error, severity="error", timeout=8)

    @on(OptionList.OptionHighlighted, "#history")
    def _history_picked(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.history):
            self._show(self.history[event.option_index])

    def _show(self, result: InvokeResult) -> None:
        style = "green" if 200 <= result.status < 300 else "red"
        head = Text(result.summary(), style=f"bold {style}")
        headers = Text("\n".join(f"{k}: {v}" for k, v in result.headers), style="dim")
        body = Syntax(result.pretty_body() or "(empty body)", "json", word_wrap=True,
                      background_color="default")
        self.query_one("#response", Static).update(Group(head, body, headers))


def _shown(path: Path) -> str:
    """The path relative to the working folder when it is inside it (shorter, and the
    same on every machine)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
