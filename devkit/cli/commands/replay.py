"""``devkit replay``: recorded requests to a deployment and the one it would replace,
compared."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("replay")
@click.argument("endpoint")
@click.option("--from", "source", required=True,
              type=click.Path(exists=True, path_type=Path),
              help="A request collection JSONL file, or a folder of them / of request files.")
@click.option("--deployment", "-d", required=True, help="The deployment to judge.")
@click.option("--against", default=None,
              help="Compare with this deployment (default: the one with most live traffic).")
@click.option("--rate", type=float, default=20.0, show_default=True,
              help="Recorded requests sent per second (each goes to both deployments).")
@click.option("--min-agreement", type=str, default=None,
              help="Exit 1 when the agreement is below this (for example 99%).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def replay(endpoint: str, source: Path, deployment: str, against: str | None, rate: float,
           min_agreement: str | None, as_json: bool) -> None:
    """Send recorded requests to DEPLOYMENT and to the deployment it would replace, pinned
    with the azureml-model-deployment header (so a 0% deployment can be judged before it
    gets any traffic), and compare the answers as the router's shadow diff does.

    \b
    Examples:
      devkit replay regression --from data/regression/blue/request -d green
      devkit replay regression --from requests/ -d green --against blue --rate 50
      devkit replay regression --from day.jsonl -d green --min-agreement 99% --json
    """
    from devkit.actions.compare import render_pair
    from devkit.actions.replay import load_requests
    from devkit.actions.replay import replay as run
    from devkit.actions.router_view import local_view
    from devkit.actions.units import parse_percent
    from devkit.errors import InvokeError

    threshold = parse_percent(min_agreement) if min_agreement else None
    requests = load_requests(source)
    report = run(local_view(endpoint), requests, deployment, against, rate=rate)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo(f"Replayed {report.sent} recorded requests from {source}.")
        click.echo("\n".join(render_pair(report.pair)))
    rate_found = report.pair.get("agreement_rate") or 0.0
    if threshold is not None and rate_found < threshold:
        raise InvokeError(f"{deployment} agreed with {report.pair['live_deployment']} on "
                          f"{rate_found:.2%} of the replayed requests, below "
                          f"--min-agreement {threshold:.2%}.")
