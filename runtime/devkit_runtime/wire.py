"""The typed wire between devkit (the host) and its runtime, parsed in this one place.

Three things cross it as JSON: a replica's readiness (``GET /-/ready``), the outcome of a
load or reload (inside that body, from the admin route and from ``python -m
devkit_runtime.reload``), and the control messages a supervisor sends its workers over
their socket. Each is a dataclass with ``to_json`` and a ``from_json`` that accepts
anything (a replica answering garbage, or an older runtime, is data, not a crash). The
router's config has its own typed module, :mod:`devkit_runtime.router.config`.

The host imports this module too (``devkit_runtime`` is installed with devkit); the
runtime never imports devkit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

READY_PATH = "/-/ready"
RELOAD_OP = "reload"
PING_OP = "ping"  # the supervisor's liveness heartbeat; answered {"op": "pong", ...}
PONG_OP = "pong"


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


@dataclass(frozen=True)
class ReloadOutcome:
    """What one load or reload of the scoring script did (``generation`` 1 is the first
    load). ``workers``/``failed_workers`` are set on a supervisor's summary of all of its
    workers, ``pid`` on one worker's own answer."""

    generation: int
    ok: bool
    ms: float
    error: str | None = None
    file: str | None = None
    line: int | None = None
    traceback: str | None = None  # kept in the log and the readiness error, never sent
    cause: str = "script"  # or "environment": installed packages failed, not score.py
    pid: int | None = None
    workers: int | None = None
    failed_workers: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"generation": self.generation, "ok": self.ok,
                                "ms": round(self.ms, 1), "error": self.error,
                                "file": self.file, "line": self.line}
        for key in ("pid", "workers", "failed_workers"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        if self.ok and self.workers is not None:  # a summary that went well says only that
            for key in ("error", "file", "line"):
                del body[key]
        return body

    @classmethod
    def from_json(cls, raw: Any) -> ReloadOutcome | None:
        """The outcome in ``raw``, or None when it holds none (``ok`` missing)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("ok"), bool):
            return None
        ms = raw.get("ms")
        return cls(_int(raw.get("generation")) or 0, raw["ok"],
                   float(ms) if isinstance(ms, int | float) else 0.0,
                   _text(raw.get("error")), _text(raw.get("file")), _int(raw.get("line")),
                   None, "script", _int(raw.get("pid")), _int(raw.get("workers")),
                   _int(raw.get("failed_workers")))


@dataclass(frozen=True)
class Debugger:
    """debugpy in a worker: where it listens and whether a client is attached."""

    port: int
    attached: bool


@dataclass(frozen=True)
class Readiness:
    """The ``/-/ready`` body. ``status`` is the worker's health (``starting``, ``ready``,
    ``unhealthy``); ``error``/``traceback`` say why it is not ready."""

    ready: bool
    status: str
    generation: int | None = None
    pid: int | None = None
    script: str | None = None
    reload: ReloadOutcome | None = None
    debugger: Debugger | None = None
    error: str | None = None
    traceback: str | None = None
    cause: str | None = None  # of ``error``: "script" or "environment" (envcheck)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ready": self.ready, "status": self.status, "pid": self.pid,
            "script": self.script, "generation": self.generation,
            "reload": self.reload.to_json() if self.reload else None,
        }
        if self.debugger is not None:
            body["debugger"] = {"port": self.debugger.port, "attached": self.debugger.attached}
        if self.error is not None:
            body["error"] = self.error
            body["traceback"] = self.traceback
            body["cause"] = self.cause
        return body

    @classmethod
    def from_json(cls, raw: Any) -> Readiness:
        """Whatever a replica answered, as a Readiness (not ready when it is not one)."""
        if not isinstance(raw, dict):
            return cls(False, "unknown")
        debugger = raw.get("debugger")
        return cls(raw.get("ready") is True, _text(raw.get("status")) or "unknown",
                   _int(raw.get("generation")), _int(raw.get("pid")), _text(raw.get("script")),
                   ReloadOutcome.from_json(raw.get("reload")),
                   Debugger(_int(debugger.get("port")) or 0, debugger.get("attached") is True)
                   if isinstance(debugger, dict) else None,
                   str(raw["error"]) if raw.get("error") else None,
                   _text(raw.get("traceback")),
                   # older runtimes say nothing: the script is at fault
                   "environment" if raw.get("cause") == "environment" else "script")

    @classmethod
    def parse(cls, text: str | bytes) -> Readiness:
        try:
            return cls.from_json(json.loads(text))
        except (ValueError, UnicodeDecodeError):
            return cls(False, "unknown")

    def error_text(self) -> str | None:
        """The error with its traceback, as the host shows an unhealthy replica."""
        if not self.error:
            return None
        return f"{self.error}\n{self.traceback}" if self.traceback else self.error


@dataclass(frozen=True)
class Control:
    """A supervisor's request to one worker over their socket, one JSON line each way."""

    op: str
    generation: int = 0

    def to_line(self) -> bytes:
        return json.dumps({"op": self.op, "generation": self.generation}).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Control:
        try:
            raw = json.loads(line)
        except ValueError:
            return cls("unreadable")
        if not isinstance(raw, dict):
            return cls("unreadable")
        return cls(str(raw.get("op")), _int(raw.get("generation")) or 0)
