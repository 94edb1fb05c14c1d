"""``devkit invoke``: send a request file through the endpoint's router, with its auth,
and print the answer.

The call goes where any client's would: the scoring URI (the router), with
``Authorization: Bearer`` the primary key (``auth_mode: key``) or a freshly issued token
(``aml_token``); ``--deployment`` pins a deployment with the ``azureml-model-deployment``
header, exactly as against a managed endpoint. The body goes to stdout (raw bytes when it
is not text, or to ``--output``); which deployment answered goes to stderr, so the body
can be piped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from devkit.errors import InvokeError as InvokeFailed

PIN_HEADER = "azureml-model-deployment"
TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml")

# The router's own refusals and failures: what they mean and what to do (CONTRACT.md §3).
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


@click.command("invoke")
@click.argument("endpoint")
@click.option("--request-file", "-r", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File whose bytes are POSTed as the request body.")
@click.option("--deployment", "-d", default=None,
              help="Send to this deployment (header azureml-model-deployment), even at 0%.")
@click.option("--output", "-o", "output", default=None,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the response body to this file instead of stdout.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {status, headers, body} as JSON instead of the body alone.")
def invoke(endpoint: str, request_file: Path, deployment: str | None, output: Path | None,
           as_json: bool) -> None:
    """POST REQUEST_FILE to ENDPOINT's scoring URI (its router, with its key or token)
    and print the response body; the answering deployment is shown on stderr.

    \b
    Examples:
      devkit invoke regression --request-file samples/regression/sample-request.json
      devkit invoke regression -r request.json --deployment green
      devkit invoke images -r photo.json --output answer.png
    """
    import httpx

    from devkit.engines import find_endpoint
    from devkit.router.clients import authorization

    _, status = find_endpoint(endpoint)
    if not status.scoring_uri:
        raise InvokeFailed(f"Endpoint '{endpoint}' has no running router to call; bring it "
                           f"up again with `devkit up` and check `devkit status {endpoint}`.")
    if deployment is not None and status.deployment(deployment) is None:
        names = ", ".join(d.name for d in status.deployments)
        raise InvokeFailed(f"Endpoint '{endpoint}' has no deployment '{deployment}' "
                           f"(deployments: {names}); pick one of those.")
    headers = {"Content-Type": "application/json", **authorization(endpoint)}
    if deployment:
        headers[PIN_HEADER] = deployment
    try:
        response = httpx.post(status.scoring_uri, content=request_file.read_bytes(),
                              headers=headers, timeout=httpx.Timeout(None, connect=10.0))
    except httpx.HTTPError as exc:
        raise InvokeFailed(f"Calling {status.scoring_uri} failed ({exc}); check the endpoint "
                           f"with `devkit status {endpoint}`.") from exc
    _print(response, output, as_json)
    answered = response.headers.get(PIN_HEADER, "the router")
    elapsed = response.elapsed.total_seconds() * 1000
    click.echo(f"{response.status_code} {response.reason_phrase} from {answered} "
               f"({elapsed:.0f} ms)", err=True)
    if not response.is_success:
        raise InvokeFailed(_failure(endpoint, response))


def _print(response: object, output: Path | None, as_json: bool) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    body = response.content
    if output is not None:
        output.write_bytes(body)
    elif as_json:
        click.echo(json.dumps({"status": response.status_code,
                               "headers": dict(response.headers),
                               "body": body.decode("utf-8", errors="replace")}))
    elif _is_text(response.headers.get("content-type", ""), body):
        text = body.decode("utf-8")
        click.echo(text, nl=not text.endswith("\n"))
    else:  # images, audio, pickles: the exact bytes, for a pipe or a redirect
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()


def _is_text(content_type: str, body: bytes) -> bool:
    if content_type and not content_type.startswith(TEXT_TYPES):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _failure(endpoint: str, response: object) -> str:
    """One sentence: the status, the router's message, what it means and the fix."""
    import httpx

    assert isinstance(response, httpx.Response)
    code = response.status_code
    message = ""
    try:
        found = response.json()
        if isinstance(found, dict) and isinstance(found.get("message"), str):
            message = found["message"].rstrip(".")
    except ValueError:
        pass
    model = response.headers.get("ms-azureml-model-error-statuscode")
    if code == 424 and model:
        reason = response.headers.get("ms-azureml-model-error-reason", "")
        message = f"the model answered {model} {reason}".rstrip()
    hint = EXPLAIN.get(code, "see `devkit logs {ep}` and `devkit status {ep}`")
    said = f" (it said: {message})" if message else ""
    return (f"{endpoint} answered {code} {response.reason_phrase}: "
            f"{hint.format(ep=endpoint)}{said}.")
