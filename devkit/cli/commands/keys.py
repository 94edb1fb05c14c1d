"""``devkit keys``: show or rotate an endpoint's primary and secondary keys."""

from __future__ import annotations

import json

import click

from devkit.cli import targeted
from devkit.cli.targeted import TARGET_HELP


@click.command("keys")
@click.argument("endpoint")
@click.option("--regenerate", type=click.Choice(["primary", "secondary"]), default=None,
              help="Replace this key (the other stays valid) and update the router live.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"primary": ..., "secondary": ...}.')
@click.option("--target", "target", default=None, metavar="T", help=TARGET_HELP)
def keys(endpoint: str, regenerate: str | None, as_json: bool, target: str | None) -> None:
    """Print ENDPOINT's keys; clients send one as 'Authorization: Bearer KEY'.

    \b
    Examples:
      devkit keys regression
      devkit keys regression --regenerate secondary --json
    """
    if target is not None:
        return targeted.keys(target, endpoint, regenerate, as_json)
    from devkit import actions

    found = actions.keys(endpoint, regenerate=regenerate)
    if as_json:
        click.echo(json.dumps(found.as_json(), indent=2))
    else:
        click.echo(f"primary:   {found.primary}\nsecondary: {found.secondary}")
