"""The endpoint's keys (or a fresh token for aml_token): shown, copyable, regenerable.

Returns which key to regenerate (``"primary"``/``"secondary"``) or None; the main screen
confirms and does the regeneration in a worker, since it rewrites the router's config.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class KeysScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape,q", "choose(None)", "Close"),
        Binding("c", "copy", "Copy primary key or token"),
        Binding("r", "choose('primary')", "Regenerate primary key"),
        Binding("s", "choose('secondary')", "Regenerate secondary key"),
    ]

    def __init__(self, endpoint: str, credentials: dict[str, str]) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.credentials = credentials

    def compose(self) -> ComposeResult:
        is_token = "token" in self.credentials
        with Vertical(classes="dialog wide"):
            yield Label(f"{'Token' if is_token else 'Keys'} of {self.endpoint}",
                        classes="question")
            text = "\n".join(f"{name}: {value}" for name, value in self.credentials.items())
            yield Static(text, markup=False, classes="text-body")
            hint = "send as 'Authorization: Bearer …'  ·  esc close  ·  c copy"
            yield Label(hint if is_token else hint + "  ·  r/s regenerate primary/secondary",
                        classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters and parameters[0]:
            return "token" not in self.credentials  # tokens are not regenerated, re-issued
        return True

    def action_choose(self, which: str | None) -> None:
        self.dismiss(which)

    def action_copy(self) -> None:
        secret = self.credentials.get("primary") or self.credentials.get("token", "")
        self.app.copy_to_clipboard(secret)
        self.notify("Copied to the clipboard.")
