"""``devkit logs``: the server logs of an endpoint's replicas."""

from __future__ import annotations

import click

from devkit.cli import targeted
from devkit.cli.targeted import TARGET_HELP


@click.command("logs")
@click.argument("endpoint")
@click.option("--deployment", "-d", default=None, help="Only this deployment.")
@click.option("--follow", "-f", is_flag=True, help="Keep streaming new lines (Ctrl-C stops).")
@click.option("--tail", "-n", type=int, default=100, show_default=True,
              help="Lines from the end of each replica's log (-1: all).")
@click.option("--target", "target", default=None, metavar="T", help=TARGET_HELP)
def logs(endpoint: str, deployment: str | None, follow: bool, tail: int,
         target: str | None) -> None:
    """Print the logs of ENDPOINT's replicas (score.py's print() output included).

    \b
    Examples:
      devkit logs regression
      devkit logs regression -d green -f
    """
    if target is not None:
        return targeted.logs(target, endpoint, deployment, follow, tail)
    from devkit import actions

    lines = actions.logs(endpoint, deployment=deployment, follow=follow,
                         tail=None if tail < 0 else tail)
    try:
        for line in lines:
            click.echo(line)
    except KeyboardInterrupt:
        pass
