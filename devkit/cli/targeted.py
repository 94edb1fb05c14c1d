"""The ``--target T`` branch of ``status``, ``traffic``, ``logs``, ``keys``, ``token`` and
``down``: the same output as the local command, read from the target through
:mod:`devkit.actions.targets`. Kept apart so each command gains one option and one line.
"""

from __future__ import annotations

import json

import click

TARGET_HELP = "Operate on the endpoint promoted to this target instead of the local one."


def status(target: str, endpoint: str | None, as_json: bool) -> None:
    from devkit.actions.targets import status as read
    from devkit.cli.commands.status import render_table

    found = read(target, endpoint)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in found], indent=2))
    elif not found:
        click.echo(f"No endpoints run on target {target}; promote one with "
                   f"`devkit promote PATH --target {target}`.")
    else:
        click.echo(render_table(found))


def traffic(target: str, endpoint: str, weights: tuple[str, ...], mirror: tuple[str, ...],
            as_json: bool) -> None:
    from devkit.actions.targets import traffic as change
    from devkit.spec import format_weights, parse_traffic_args

    live = parse_traffic_args(weights) if weights else None
    new_mirror = parse_traffic_args(mirror, what="--mirror") if mirror else None
    result = change(target, endpoint, live, new_mirror)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(format_weights(result["traffic"], result["mirror"]))
    if weights or mirror:
        click.echo(f"Applied live on {target} in {result.get('seconds', 0):.2f} s.")


def logs(target: str, endpoint: str, deployment: str | None, follow: bool, tail: int) -> None:
    from devkit.actions.targets import logs as read

    try:
        for line in read(target, endpoint, deployment, follow, None if tail < 0 else tail):
            click.echo(line)
    except KeyboardInterrupt:
        pass


def keys(target: str, endpoint: str, regenerate: str | None, as_json: bool) -> None:
    from devkit.actions.targets import keys as read

    if regenerate:
        raise click.UsageError("--regenerate with --target is not available yet; `devkit down "
                               "ENDPOINT --target T` and promote again for new keys.")
    found = read(target, endpoint)
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        click.echo(f"primary:   {found['primary']}\nsecondary: {found['secondary']}")


def token(target: str, endpoint: str, lifetime: int, as_json: bool) -> None:
    from devkit.actions.targets import token as issue

    issued = issue(target, endpoint, lifetime)
    if as_json:
        click.echo(json.dumps(issued, indent=2))
    else:
        click.echo(issued["token"])
        click.echo(f"expires at {issued['expires_at']}", err=True)


def down(target: str, endpoint: str) -> None:
    from devkit.actions.targets import down as remove

    remove(target, endpoint, lambda line: click.echo(line, err=True))
    click.echo(f"{endpoint}: removed from target {target}")
