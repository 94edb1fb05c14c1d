"""``devkit debug``: restart one deployment under debugpy and write the VS Code files."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command("debug")
@click.argument("endpoint")
@click.option("--deployment", "-d", required=True, help="The deployment to debug.")
@click.option("--port", type=int, default=None,
              help="Loopback port for the debugger [default: a free one].")
@click.option("--wait", is_flag=True, help="Block until a debugger attaches.")
@click.option("--off", is_flag=True, help="Restore the deployment as its spec says.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"host", "port", "local_root", "remote_root"} for tools.')
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where .vscode/ and .devcontainer/ go [default: the endpoint's folder].")
@click.option("--spec", "spec_path", type=click.Path(exists=True, path_type=Path),
              default=None, help="The endpoint's folder, when devkit did not record it.")
def debug(endpoint: str, deployment: str, port: int | None, wait: bool, off: bool,
          as_json: bool, workspace: Path | None, spec_path: Path | None) -> None:
    """Make DEPLOYMENT of ENDPOINT listen for debugpy on a loopback port.

    It restarts with one replica and request timeouts lifted (a paused breakpoint
    must not end in a 408), and `.vscode/launch.json` (merged) and
    `.devcontainer/devcontainer.json` are written next to the endpoint's spec.
    Breakpoints in score.py are hit on the next request.

    \b
    Examples:
      devkit debug regression -d blue
      devkit debug regression -d blue --wait --port 5678
      devkit debug regression -d blue --off
    """
    from devkit import actions
    from devkit.reload import load_spec

    spec = load_spec(endpoint, [spec_path]) if spec_path else None
    if off:
        actions.debug_off(endpoint, deployment, spec=spec, progress=_say)
        click.echo(f"{endpoint}/{deployment}: debugger off, running as its spec says")
        return
    session = actions.debug_on(endpoint, deployment, port=port, spec=spec,
                               workspace=workspace, progress=_say)
    if as_json:
        click.echo(json.dumps(session.target.to_json()))
    else:
        click.echo(session.instructions())
    if wait:
        target = session.target
        _say(f"waiting for a debugger on {target.host}:{target.port} (Ctrl-C stops waiting)")
        actions.wait_for_debugger(session)
        _say("debugger attached")
