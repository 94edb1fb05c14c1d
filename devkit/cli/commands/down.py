"""``devkit down``: remove an endpoint's containers/processes and what devkit made for it."""

from __future__ import annotations

import click

from devkit.cli import targeted
from devkit.cli.targeted import TARGET_HELP


@click.command("down")
@click.argument("endpoint", required=False)
@click.option("--all", "everything", is_flag=True, help="Stop every devkit endpoint.")
@click.option("--target", "target", default=None, metavar="T", help=TARGET_HELP)
def down(endpoint: str | None, everything: bool, target: str | None) -> None:
    """Stop ENDPOINT (or --all) and remove its containers, networks and state.

    \b
    Examples:
      devkit down regression
      devkit down --all
    """
    if target is not None:
        if endpoint is None or everything:
            raise click.UsageError("--target needs an ENDPOINT (and no --all).")
        return targeted.down(target, endpoint)
    from devkit import actions

    if everything == (endpoint is not None):
        raise click.UsageError("give an ENDPOINT or --all (not both).")
    if endpoint is not None:
        actions.down(endpoint)
        click.echo(f"{endpoint}: stopped and removed")
        return
    stopped = actions.down_all()
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
