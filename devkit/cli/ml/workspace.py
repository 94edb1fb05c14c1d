"""``devkit ml workspace show`` (the local workspace) and ``devkit ml shim`` (an ``az`` that
runs ``az ml ...`` scripts against devkit)."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path
from typing import Any

import click

from devkit.cli.ml.common import AzGroup, az_command
from devkit.paths import state_dir


@click.group("workspace", cls=AzGroup)
def workspace() -> None:
    """The local workspace: where devkit keeps endpoints and registered assets.

    \b
    Examples:
      devkit ml workspace show --query container_registry -o tsv
    """


@az_command(workspace, "show")
@click.option("-n", "--name", default=None, hidden=True)
def show(name: str | None) -> dict[str, Any]:
    """Show the local workspace as az shows a workspace.

    \b
    Examples:
      devkit ml workspace show
    """
    return {
        "name": name or "local",
        "location": "local",
        "id": "devkit:/workspaces/local",
        "resource_group": None,
        "storage_account": str(state_dir()),
        # The local registry images are pushed to, once promote has one.
        "container_registry": None,
        "discovery_url": None,
        "mlflow_tracking_uri": None,
        "public_network_access": "Enabled",
    }


def shim_text() -> str:
    """An ``az`` script: ``az ml ...`` runs this devkit; the cloud's session commands
    (login, account, configure, extension) are no-ops that say so; the rest is refused."""
    devkit = f"{shlex.quote(sys.executable)} -m devkit.cli.main"
    return f"""#!/bin/sh
# az -> devkit: `az ml ...` runs on local endpoints (written by `devkit ml shim`).
case "$1" in
  ml) exec {devkit} "$@" ;;
  login|logout|account|configure|extension|version)
    echo "az $1: nothing to do locally (devkit's az runs only 'az ml ...')" >&2; exit 0 ;;
  *) echo "az $1 is not available locally; devkit's az runs 'az ml ...' only" >&2; exit 2 ;;
esac
"""


@click.command("shim")
@click.option("--install", "folder", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Write the script as FOLDER/az (made executable) instead of printing it.")
def shim(folder: Path | None) -> None:
    """Print (or install) an `az` script that sends `az ml ...` to devkit.

    Put its folder first on PATH and an unmodified `az ml` deploy script runs locally.

    \b
    Examples:
      devkit ml shim --install ~/.local/devkit-az && export PATH=~/.local/devkit-az:$PATH
      devkit ml shim > az && chmod +x az
    """
    text = shim_text()
    if folder is None:
        click.echo(text, nl=False)
        return
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "az"
    target.write_text(text, encoding="utf-8")
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    click.echo(f"wrote {target}; put {folder} first on PATH: export PATH={folder}:$PATH",
               err=True)
