"""``devkit up``: bring an endpoint to its spec and leave it serving behind its router."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from devkit.engines import ENGINES, DeploymentStatus


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command("up")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--engine", "engine_name", type=click.Choice(sorted(ENGINES)), default=None,
              help="Where to run [default: docker when an engine answers, else process].")
@click.option("--attach", is_flag=True,
              help="Stay in the foreground streaming logs; Ctrl-C leaves the endpoint running.")
@click.option("--gpu", is_flag=True, help="Give every replica an NVIDIA GPU.")
@click.option("--no-watch", is_flag=True,
              help="Do not reload on save (reload with `devkit reload` instead).")
@click.option("--set", "sets", multiple=True, metavar="[TARGET:]PATH=VALUE",
              help="Override a spec field before validation, as az's --set (repeatable); "
                   "TARGET is `endpoint` or a deployment name.")
@click.option("-e", "--endpoint-name", default=None,
              help="The endpoint's name: bring deployment files up without an endpoint file "
                   "(key auth), or add them to this running endpoint.")
@click.option("--all-traffic", is_flag=True,
              help="Send 100% of live traffic to the deployment file given last.")
def up(paths: tuple[Path, ...], engine_name: str | None, attach: bool, gpu: bool,
       no_watch: bool, sets: tuple[str, ...], endpoint_name: str | None,
       all_traffic: bool) -> None:
    """Start (or update) the endpoint described by PATH and wait until it is ready.

    PATH is a folder holding one endpoint file and its deployment files, or an endpoint
    file followed by deployment files (default: the current folder); with -e NAME,
    deployment files alone (joining endpoint NAME when it runs). Only what changed
    since the last `up` is restarted. Every endpoint is fronted by its router, whose
    /score is the scoring URI printed at the end; the endpoint file's traffic is applied
    on every `up`, replacing weights set live with `devkit traffic` (`up` says so).

    \b
    Examples:
      devkit up samples/regression
      devkit up endpoint.yml blue.yml green.yml --engine process
      devkit up samples/regression --set blue:instance_count=2 --set auth_mode=aml_token
      devkit up green.yml -e regression --all-traffic
    """
    from devkit.engines import UpOptions, get_engine
    from devkit.errors import ScriptError
    from devkit.reload import recall_spec, remember_spec, watch_off
    from devkit.spec import load_recipe, plan
    from devkit.spec.compose import extend

    # A SpecError stops here, before anything is touched.
    recipe = plan(list(paths) or [Path.cwd()], sets=sets, endpoint_name=endpoint_name)
    if endpoint_name is not None or all_traffic:
        running = recall_spec(endpoint_name) if endpoint_name else None
        recipe = extend(running, recipe, all_traffic=all_traffic)
    endpoint = load_recipe(recipe)
    if engine_name is None:  # an endpoint that runs stays on its engine
        from devkit.engines import find_endpoint
        from devkit.errors import EndpointNotFound

        with contextlib.suppress(EndpointNotFound):
            engine_name = find_endpoint(endpoint.name)[0].name
    engine = get_engine(engine_name, progress=_say)
    status = engine.up(watch_off(endpoint) if no_watch else endpoint, UpOptions(gpu=gpu),
                       progress=_say)
    remember_spec(endpoint, watch=not no_watch)
    from devkit.cli.commands.status import render_table

    click.echo(render_table([status]))
    if status.scoring_uri:
        click.echo(f"scoring URI: {status.scoring_uri}")
    broken = [d for d in status.deployments if d.error]
    if attach:
        _attach(engine, endpoint.name)
    if broken:
        raise ScriptError(unhealthy_sentence(endpoint.name, broken[0]))


def unhealthy_sentence(endpoint: str, deployment: DeploymentStatus) -> str:
    """What to fix, by the runtime's diagnosis: score.py (a save reloads it) or the
    environment (installed packages; only a rebuild with other versions fixes that)."""
    logs = f"`devkit logs {endpoint} -d {deployment.name}`"
    if deployment.cause == "environment":
        return (f"Deployment '{deployment.name}' is unhealthy: {deployment.error}\nFix the "
                "environment (the package versions in its conda file or Dockerfile; a save "
                f"of score.py cannot fix installed packages) and run `devkit up` again, or "
                f"see {logs}.")
    return (f"Deployment '{deployment.name}' is unhealthy: {deployment.error}\nFix score.py "
            f"(saving it reloads the server) or see {logs}.")


def _attach(engine: object, name: str) -> None:
    from devkit.engines import Engine

    assert isinstance(engine, Engine)
    _say(f"attached to {name}'s logs; Ctrl-C detaches and leaves it running")
    try:
        for line in engine.logs(name, follow=True, tail=0):
            click.echo(line)
    except KeyboardInterrupt:
        _say(f"detached; {name} keeps running (`devkit down {name}` stops it)")
        sys.stdout.flush()
