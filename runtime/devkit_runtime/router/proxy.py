"""Forwarding one request: serialise it for the replica, map the outcome to a response.

Pure functions over bytes, kept apart from the ASGI plumbing so the status-code rules of
the managed front end (docs/contract.md §3) read in one place:

- replica answered 200 → 200, body and headers passed through;
- replica answered anything else on ``/score`` → 424 with
  ``ms-azureml-model-error-statuscode`` / ``ms-azureml-model-error-reason``, body passed
  through (``/swagger.json`` passes the status through: it is not a scoring call);
- ``request_timeout_ms`` exceeded → 408; connection refused or dropped → 502;
- no replica → 503; too many in flight → 429.

The ``Authorization`` header is not forwarded: keys and tokens are the front end's
business and must not reach the model container's logs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from devkit_runtime.ids import new_request_id
from devkit_runtime.router.upstream import BodyStream, UpstreamResponse

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the router rewrites itself.
_REQUEST_DROP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
    b"transfer-encoding", b"upgrade", b"host", b"content-length", b"authorization", b"expect",
    b"x-devkit-replica-secret",  # the router's own to send (replica_secret), never a client's
})
_RESPONSE_DROP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"trailer", b"transfer-encoding",
    b"upgrade", b"content-length",
})

DEPLOYMENT_HEADER = b"azureml-model-deployment"
REQUEST_ID = b"x-request-id"
CLIENT_REQUEST_ID = b"x-ms-client-request-id"
ERROR_STATUS = b"ms-azureml-model-error-statuscode"
ERROR_REASON = b"ms-azureml-model-error-reason"


@dataclass
class Incoming:
    """What the router needs from the client's request headers, read in one pass."""

    authorization: bytes | None = None  # raw: the Authenticator remembers decisions by it
    pinned: str | None = None
    request_id: bytes = b""
    client_request_id: bytes = b""
    forwarded: list[tuple[bytes, bytes]] = field(default_factory=list)

    @classmethod
    def read(cls, headers: list[tuple[bytes, bytes]]) -> Incoming:
        incoming = cls()
        for name, value in headers:
            if name in _REQUEST_DROP:
                if name == b"authorization":
                    incoming.authorization = value
                continue
            if name == DEPLOYMENT_HEADER:
                incoming.pinned = value.decode("latin-1").strip()
            elif name == REQUEST_ID:
                incoming.request_id = value
                continue
            elif name == CLIENT_REQUEST_ID:
                incoming.client_request_id = value
            incoming.forwarded.append((name, value))
        if not incoming.request_id:
            incoming.request_id = new_request_id()
        return incoming

    def id_headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(REQUEST_ID, self.request_id)]
        if self.client_request_id:
            headers.append((CLIENT_REQUEST_ID, self.client_request_id))
        return headers


def serialise(method: str, target: bytes, host: bytes, incoming: Incoming,
              body: bytes, secret: bytes | None = None) -> list[bytes]:
    """The request as the bytes to write to the replica's socket (with the replica
    secret, when the config has one)."""
    lines = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\nhost: ", host,
             b"\r\nx-request-id: ", incoming.request_id,
             b"\r\ncontent-length: ", str(len(body)).encode("ascii"), b"\r\n"]
    if secret is not None:
        lines += [b"x-devkit-replica-secret: ", secret, b"\r\n"]
    for name, value in incoming.forwarded:
        lines += [name, b": ", value, b"\r\n"]
    lines.append(b"\r\n")
    return [b"".join(lines), body] if body else [b"".join(lines)]


@dataclass
class Outgoing:
    """A response for the client: ``body``, or for a streamed one ``stream`` (relayed until
    ``deadline``, loop time) and ``on_end`` (called with whether it was relayed whole)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stream: BodyStream | None = None
    deadline: float = 0.0
    on_end: list[Callable[[bool], None]] = field(default_factory=list)


def from_upstream(response: UpstreamResponse, deployment: str, incoming: Incoming,
                  scoring: bool) -> Outgoing:
    headers = [pair for pair in response.headers if pair[0] not in _RESPONSE_DROP]
    headers.append((DEPLOYMENT_HEADER, deployment.encode("latin-1")))
    # The client gets the request's ids unless the replica answered with its own (devkit's
    # runtime echoes x-request-id: then the copy is the replica's, and none is added).
    answered = dict(response.headers)  # one pass in C, not a loop in Python
    if REQUEST_ID not in answered:
        headers.append((REQUEST_ID, incoming.request_id))
    if incoming.client_request_id and CLIENT_REQUEST_ID not in answered:
        headers.append((CLIENT_REQUEST_ID, incoming.client_request_id))
    status = response.status
    if scoring and status != 200:
        reason = response.reason or b"Error"
        headers += [(ERROR_STATUS, str(status).encode("ascii")), (ERROR_REASON, reason)]
        status = 424
    return Outgoing(status, headers, response.body, response.stream)


def error(status: int, message: str, incoming: Incoming | None = None,
          deployment: str | None = None) -> Outgoing:
    """A response the router writes itself: JSON ``{"message": ...}`` like the server's."""
    headers = [(b"content-type", b"application/json")]
    if deployment:
        headers.append((DEPLOYMENT_HEADER, deployment.encode("latin-1")))
    if incoming is not None:
        headers += incoming.id_headers()
    body = json.dumps({"message": message}).encode("utf-8") + b"\n"
    return Outgoing(status, headers, body)


def json_response(payload: object, status: int = 200) -> Outgoing:
    body = json.dumps(payload, indent=None).encode("utf-8") + b"\n"
    return Outgoing(status, [(b"content-type", b"application/json")], body)
