"""``devkit token``: issue an expiring token for an ``aml_token`` endpoint."""

from __future__ import annotations

import json

import click

from devkit.cli import targeted
from devkit.cli.targeted import TARGET_HELP


@click.command("token")
@click.argument("endpoint")
@click.option("--lifetime", type=click.IntRange(min=1), default=3600, show_default=True,
              help="Seconds until the token expires.")
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ..., "expires_at": ...}.')
@click.option("--target", "target", default=None, metavar="T", help=TARGET_HELP)
def token(endpoint: str, lifetime: int, as_json: bool, target: str | None) -> None:
    """Print a token for ENDPOINT; clients send it as 'Authorization: Bearer TOKEN'.

    \b
    Examples:
      devkit token regression
      devkit token regression --json --lifetime 600
    """
    if target is not None:
        return targeted.token(target, endpoint, lifetime, as_json)
    from devkit import actions

    issued = actions.token(endpoint, lifetime_s=lifetime)
    if as_json:
        click.echo(json.dumps(issued.as_json(), indent=2))
    else:
        click.echo(issued.token)
        click.echo(f"expires at {issued.as_json()['expires_at']}", err=True)
