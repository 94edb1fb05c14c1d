"""``devkit prune``: remove images, networks, state and venvs no running endpoint uses."""

from __future__ import annotations

import json

import click


@click.command("prune")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed, with sizes.")
@click.option("--json", "as_json", is_flag=True, help="Print what was (or would be) removed "
              "as JSON.")
def prune(dry_run: bool, as_json: bool) -> None:
    """Remove what devkit made that no running endpoint uses: environment and release
    images no container uses, devkit networks with no container, process-engine state
    folders of endpoints that do not run, and venvs no running deployment uses. The base
    image, anything in use and the wheelhouse are never touched.

    \b
    Examples:
      devkit prune --dry-run
      devkit prune
      devkit prune --json
    """
    from devkit.engines import prune as pruning

    client = _docker()
    found = pruning.find(client)
    failures = [] if dry_run else pruning.remove(client, found.items)
    total = sum(item.size for item in found.items)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "items": [i.to_json() for i in found.items],
                               "total_size": total, "kept": failures,
                               "notes": list(found.notes)}, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for item in found.items:
        click.echo(f"{verb} {item.kind} {item.name} ({pruning.human(item.size)})")
    for failure in failures:
        click.echo(failure)
    click.echo(f"{len(found.items)} item(s), {pruning.human(total)}"
               + (" (nothing removed: --dry-run)" if dry_run else ""))
    for note in found.notes:
        click.echo(f"note: {note}")


def _docker() -> object | None:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:  # no engine, no socket, no SDK: prune what is on the host only
        return None
    return client
