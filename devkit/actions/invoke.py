"""Sending a request to an endpoint the way any client would: to its scoring URI (the
router), with its key or token, optionally pinned to a deployment with the
``azureml-model-deployment`` header, as against a managed endpoint."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from devkit_runtime.router.proxy import DEPLOYMENT_HEADER

from devkit.actions.access import authorization
from devkit.actions.place import LOCAL, Scope
from devkit.engines.base import no_deployment
from devkit.errors import InvokeError

PIN_HEADER = DEPLOYMENT_HEADER.decode()  # the router's own name for it, written once
TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml")

# The router's own refusals and failures: what they mean and what to do (docs/contract.md §3).
EXPLAIN: dict[int, str] = {
    401: "the key or token was refused; check `devkit keys {ep}` (auth_mode key) or "
         "`devkit token {ep}` (aml_token)",
    404: "no deployment has traffic; set some with `devkit traffic {ep} NAME=100` or pin "
         "one with --deployment",
    408: "the deployment took longer than its request_settings.request_timeout_ms; raise it "
         "in the deployment file or make run() faster",
    424: "the model answered an error; see run()'s traceback with `devkit logs {ep}`",
    429: "too many requests in flight (2 x max_concurrent_requests_per_instance x "
         "instance_count); retry later or raise those settings",
    502: "a replica crashed or closed the connection; see `devkit logs {ep}` and "
         "`devkit status {ep}`",
    503: "the deployment has no ready replica; see `devkit status {ep}` and `devkit logs "
         "{ep}`",
}


@dataclass(frozen=True)
class Route:
    """Where requests for an endpoint go, as its status says."""

    endpoint: str
    scoring_uri: str | None
    deployments: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """What came back from one request."""

    endpoint: str
    url: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    answered_by: str | None  # the deployment the router says answered
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_map(self) -> dict[str, str]:
        """The headers as one mapping; repeated ones joined with ", " as HTTP allows."""
        merged: dict[str, str] = {}
        for key, value in self.headers:
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def is_text(self) -> bool:
        kind = self.header("content-type") or ""
        if kind and not kind.startswith(TEXT_TYPES):
            return False
        try:
            self.body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def failure(self) -> str:
        """One sentence: the status, the router's message, what it means and the fix."""
        message = _message(self.body)
        model = self.header("ms-azureml-model-error-statuscode")
        if self.status == 424 and model:
            reason = self.header("ms-azureml-model-error-reason") or ""
            message = f"the model answered {model} {reason}".rstrip()
        hint = EXPLAIN.get(self.status, "see `devkit logs {ep}` and `devkit status {ep}`")
        said = f" (it said: {message})" if message else ""
        return (f"{self.endpoint} answered {self.status} {self.reason}: "
                f"{hint.format(ep=self.endpoint)}{said}.")


def route_of(name: str, *, scope: Scope = LOCAL) -> Route:
    """The endpoint's scoring URI and deployments, from where it runs."""
    _, status = scope.locate(name)
    return Route(name, status.scoring_uri, tuple(d.name for d in status.deployments))


def invoke(route: Route, body: bytes, *, deployment: str | None = None,
           timeout_s: float | None = None, scope: Scope = LOCAL) -> Answer:
    """POST ``body`` to the endpoint's router (pinned to ``deployment`` when given).
    A non-2xx answer is an Answer too; InvokeError only when nothing answered."""
    if not route.scoring_uri:
        raise InvokeError(f"Endpoint '{route.endpoint}' has no running router to call; bring "
                          f"it up again with `devkit up` and check `devkit status "
                          f"{route.endpoint}`.")
    if deployment is not None and deployment not in route.deployments:
        raise no_deployment(route.endpoint, deployment, list(route.deployments))
    headers = {"Content-Type": "application/json",
               **authorization(route.endpoint, scope=scope)}
    if deployment:
        headers[PIN_HEADER] = deployment
    started = time.perf_counter()
    try:
        response = httpx.post(route.scoring_uri, content=body, headers=headers,
                              timeout=httpx.Timeout(timeout_s, connect=10.0))
    except httpx.HTTPError as exc:
        raise InvokeError(f"Calling {route.scoring_uri} failed ({exc}); check the endpoint "
                          f"with `devkit status {route.endpoint}`.") from exc
    return Answer(route.endpoint, route.scoring_uri, response.status_code,
                  response.reason_phrase, tuple(response.headers.items()), response.content,
                  response.headers.get(PIN_HEADER), (time.perf_counter() - started) * 1000)


def _message(body: bytes) -> str:
    import json

    try:
        found = json.loads(body)
    except ValueError:
        return ""
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return str(found["message"]).rstrip(".")
    return ""
