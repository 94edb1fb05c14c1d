"""``devkit invoke``: send a request file through the endpoint's router, with its auth,
and print the answer.

The call goes where any client's would (:func:`devkit.actions.invoke`): the scoring URI
(the router), with ``Authorization: Bearer`` the primary key or a fresh token;
``--deployment`` pins a deployment with the ``azureml-model-deployment`` header. The body
goes to stdout (raw bytes when it is not text, or to ``--output``); which deployment
answered goes to stderr, so the body can be piped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


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
    from devkit import actions
    from devkit.errors import InvokeError

    answer = actions.invoke(actions.route_of(endpoint), request_file.read_bytes(),
                            deployment=deployment)
    if output is not None:
        output.write_bytes(answer.body)
    elif as_json:
        click.echo(json.dumps({"status": answer.status, "headers": answer.header_map(),
                               "body": answer.body.decode("utf-8", errors="replace")}))
    elif answer.is_text():
        text = answer.body.decode("utf-8")
        click.echo(text, nl=not text.endswith("\n"))
    else:  # images, audio, pickles: the exact bytes, for a pipe or a redirect
        sys.stdout.buffer.write(answer.body)
        sys.stdout.buffer.flush()
    click.echo(f"{answer.status} {answer.reason} from {answer.answered_by or 'the router'} "
               f"({answer.elapsed_ms:.0f} ms)", err=True)
    if not answer.ok:
        raise InvokeError(answer.failure())
