"""A small Debug Adapter Protocol client over TCP, speaking to debugpy as VS Code does.

Messages are JSON bodies framed by a ``Content-Length`` header. A reader thread sorts what
arrives into responses (by ``request_seq``) and events (by name), so requests whose answer
comes late (debugpy answers ``attach`` only after ``configurationDone``) can be sent and
awaited separately.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
from typing import Any

Message = dict[str, Any]


class DapError(AssertionError):
    """The adapter answered a request with success=false, or did not answer in time."""


class DapClient:
    def __init__(self, host: str, port: int, timeout_s: float = 30) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.settimeout(None)
        self.timeout_s = timeout_s
        self.seq = 0
        self.responses: dict[int, queue.Queue[Message]] = {}
        self.events: queue.Queue[Message] = queue.Queue()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    # -- framing ----------------------------------------------------------------------
    def _send(self, message: Message) -> None:
        body = json.dumps(message).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _read_loop(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            while True:
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if not line:
                    return
                self._dispatch(json.loads(stream.read(length)))
        except (OSError, ValueError):
            return

    def _dispatch(self, message: Message) -> None:
        if message.get("type") == "response":
            self._slot(int(message["request_seq"])).put(message)
        elif message.get("type") == "event":
            self.events.put(message)

    def _slot(self, seq: int) -> queue.Queue[Message]:
        with self.lock:
            return self.responses.setdefault(seq, queue.Queue())

    # -- requests ---------------------------------------------------------------------
    def send_request(self, command: str, arguments: Message | None = None) -> int:
        """Send without waiting; returns the seq to pass to :meth:`response`."""
        with self.lock:
            self.seq += 1
            seq = self.seq
        self._slot(seq)
        self._send({"seq": seq, "type": "request", "command": command,
                    "arguments": arguments or {}})
        return seq

    def response(self, seq: int, timeout_s: float | None = None) -> Message:
        try:
            message = self._slot(seq).get(timeout=timeout_s or self.timeout_s)
        except queue.Empty:
            raise DapError(f"no response to request {seq}") from None
        if not message.get("success"):
            raise DapError(f"{message.get('command')} failed: {message.get('message')}")
        body: Message = message.get("body") or {}
        return body

    def request(self, command: str, arguments: Message | None = None) -> Message:
        return self.response(self.send_request(command, arguments))

    def wait_event(self, name: str, timeout_s: float | None = None) -> Message:
        """The next event called ``name`` (others before it are dropped)."""
        deadline = timeout_s or self.timeout_s
        while True:
            try:
                event = self.events.get(timeout=deadline)
            except queue.Empty:
                raise DapError(f"no {name!r} event within {deadline} s") from None
            if event.get("event") == name:
                body: Message = event.get("body") or {}
                return body

    # -- the VS Code attach sequence ----------------------------------------------------
    def attach(self, path_mappings: list[dict[str, str]],
               breakpoints: dict[str, list[int]]) -> None:
        """initialize, attach, setBreakpoints per file, configurationDone."""
        self.request("initialize", {"clientID": "devkit-tests", "adapterID": "debugpy",
                                    "pathFormat": "path", "linesStartAt1": True,
                                    "columnsStartAt1": True})
        attach = self.send_request("attach", {"justMyCode": False,
                                              "pathMappings": path_mappings})
        self.wait_event("initialized")
        for path, lines in breakpoints.items():
            answer = self.request("setBreakpoints", {
                "source": {"path": path}, "breakpoints": [{"line": n} for n in lines]})
            assert all(b.get("verified", True) for b in answer["breakpoints"]), answer
        self.request("configurationDone")
        self.response(attach)

    def top_frame(self, thread_id: int) -> Message:
        frames = self.request("stackTrace", {"threadId": thread_id, "levels": 1})
        frame: Message = frames["stackFrames"][0]
        return frame

    def locals_of(self, frame_id: int) -> dict[str, str]:
        scopes = self.request("scopes", {"frameId": frame_id})["scopes"]
        local = next(s for s in scopes if s["name"].lower().startswith("locals"))
        variables = self.request("variables",
                                 {"variablesReference": local["variablesReference"]})
        return {v["name"]: v["value"] for v in variables["variables"]}

    def close(self) -> None:
        with contextlib.suppress(DapError, OSError):
            self.request("disconnect", {"terminateDebuggee": False})
        self.sock.close()
