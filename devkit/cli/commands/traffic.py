"""``devkit traffic``: show or change an endpoint's live weights and mirror, live."""

from __future__ import annotations

import json

import click

from devkit.cli import targeted
from devkit.cli.targeted import TARGET_HELP


@click.command("traffic")
@click.argument("endpoint")
@click.argument("weights", nargs=-1)
@click.option("--mirror", "mirror", multiple=True, metavar="NAME=PERCENT",
              help="Copy PERCENT (<= 50) of live requests to NAME; NAME=0 stops mirroring.")
@click.option("--json", "as_json", is_flag=True, help="Print the weights as JSON.")
@click.option("--target", "target", default=None, metavar="T", help=TARGET_HELP)
def traffic(endpoint: str, weights: tuple[str, ...], mirror: tuple[str, ...],
            as_json: bool, target: str | None) -> None:
    """Show ENDPOINT's traffic, or set it live with WEIGHTS (deployments not named get 0).

    The router applies the change without dropping a request; the rules are the spec's
    (weights sum to 100 or 0; mirror to one deployment with 0% live traffic, at most 50%).
    `devkit status` shows the live weights; the next `devkit up` applies the endpoint
    file's weights again (edit the file to keep a split).

    \b
    Examples:
      devkit traffic regression
      devkit traffic regression blue=90 green=10
      devkit traffic regression blue=100 --mirror green=20
    """
    if target is not None:
        return targeted.traffic(target, endpoint, weights, mirror, as_json)
    from devkit import actions
    from devkit.spec import format_weights, parse_traffic_args

    if not weights and not mirror:
        change = actions.show_traffic(endpoint)
    else:
        change = actions.set_traffic(
            endpoint, parse_traffic_args(weights) if weights else None,
            parse_traffic_args(mirror, what="--mirror") if mirror else None)
    if as_json:
        click.echo(json.dumps(change.as_json(), indent=2))
        return
    click.echo(format_weights(change.traffic, change.mirror))
    if weights or mirror:
        click.echo("Applied live." if change.applied else
                   "Saved; the router is not running and applies it when the endpoint is up.")
