"""``devkit invoke``: send a request file to an endpoint and print the answer."""

from __future__ import annotations

import json
from pathlib import Path

import click

from devkit.errors import InvokeError as InvokeFailed


@click.command("invoke")
@click.argument("endpoint")
@click.option("--request-file", "-r", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File whose bytes are POSTed as the request body.")
@click.option("--deployment", "-d", default=None,
              help="Send to this deployment (header azureml-model-deployment).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {status, headers, body} as JSON instead of the body alone.")
def invoke(endpoint: str, request_file: Path, deployment: str | None, as_json: bool) -> None:
    """POST REQUEST_FILE to ENDPOINT's scoring URI and print the response body.

    \b
    Example:
      devkit invoke regression --request-file samples/regression/sample-request.json
    """
    import httpx

    from devkit.engines import find_endpoint

    _, status = find_endpoint(endpoint)
    url = _target(status, deployment)
    headers = {"Content-Type": "application/json"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    try:
        response = httpx.post(url, content=request_file.read_bytes(), headers=headers,
                              timeout=60.0)
    except httpx.HTTPError as exc:
        raise InvokeFailed(f"Calling {url} failed ({exc}); check the endpoint with "
                           f"`devkit status {endpoint}`.") from exc
    if as_json:
        click.echo(json.dumps({"status": response.status_code,
                               "headers": dict(response.headers), "body": response.text}))
    else:
        click.echo(response.text, nl=not response.text.endswith("\n"))
    if not response.is_success:
        raise InvokeFailed(f"{endpoint} answered {response.status_code} "
                           f"{response.reason_phrase}; see `devkit logs {endpoint}`.")


def _target(status: object, deployment: str | None) -> str:
    """The scoring URI; without a router, a named deployment is called directly."""
    from devkit.engines import EndpointStatus

    assert isinstance(status, EndpointStatus)
    if deployment is not None:
        found = status.deployment(deployment)
        if found is None:
            names = ", ".join(d.name for d in status.deployments)
            raise InvokeFailed(f"Endpoint '{status.name}' has no deployment '{deployment}' "
                               f"(deployments: {names}); pick one of those.")
        routed = status.scoring_uri and not any(
            status.scoring_uri.startswith(u) for d in status.deployments for u in d.urls)
        if not routed:
            if not found.urls:
                raise InvokeFailed(f"Deployment '{deployment}' has no running replica; see "
                                   f"`devkit status {status.name}`.")
            return f"{found.urls[0]}/score"
    if not status.scoring_uri:
        raise InvokeFailed(f"Endpoint '{status.name}' has no live deployment to call; give one "
                           "with --deployment or set traffic in its endpoint file.")
    return status.scoring_uri
