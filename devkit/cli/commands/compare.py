"""``devkit compare``: the router's shadow diff of an endpoint's mirrored traffic."""

from __future__ import annotations

import json

import click


@click.command("compare")
@click.argument("endpoint")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(endpoint: str, as_json: bool) -> None:
    """Show how ENDPOINT's mirrored deployment answers compared with the live ones.

    The router keeps both answers of every mirrored request and compares them: status,
    JSON bodies field by field (numbers within the endpoint's tolerance, tags
    devkit.shadow.atol / rtol / ignore in endpoint.yml), other bodies byte for byte, and
    the latency of each. Mirror some traffic first.

    \b
    Examples:
      devkit traffic regression blue=100 --mirror green=20
      devkit compare regression
      devkit compare regression --json
    """
    from devkit.actions.compare import render_pair, shadow_report
    from devkit.actions.router_view import local_view

    report = shadow_report(local_view(endpoint))
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    if not report.pairs:
        click.echo(f"No mirrored request of '{endpoint}' has been compared yet; mirror some "
                   f"traffic with `devkit traffic {endpoint} LIVE=100 --mirror SHADOW=10` "
                   f"and send requests.")
        return
    for pair in report.pairs:
        click.echo("\n".join(render_pair(pair)))
