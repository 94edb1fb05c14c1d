"""``devkit up``: bring an endpoint to its spec and leave it serving behind its router."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from devkit.engines import ENGINES
from devkit.progress import VERBOSE_ENV, LinePrinter

# Builds show one updating status line on a terminal, plain lines otherwise (devkit.progress).
_say = LinePrinter()


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
@click.option("--expose", is_flag=True,
              help="Docker: also publish each replica's scoring and admin ports on host "
                   "loopback (by default only the router is reachable from the host).")
@click.option("--strict", is_flag=True,
              help="Refuse a spec setting the engine cannot enforce (egress disabled on the "
                   "process engine) instead of warning about it.")
@click.option("--verbose", "-v", is_flag=True,
              help="Show docker's raw build output too (it is always in the build's log file).")
def up(paths: tuple[Path, ...], engine_name: str | None, attach: bool, gpu: bool,
       no_watch: bool, sets: tuple[str, ...], endpoint_name: str | None,
       all_traffic: bool, expose: bool, strict: bool, verbose: bool) -> None:
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
    from devkit import actions
    from devkit.engines import RunSettings
    from devkit.reload import recall_spec
    from devkit.spec import load_recipe, plan
    from devkit.spec.compose import extend

    if verbose:
        os.environ[VERBOSE_ENV] = "1"  # read where the build runs (devkit.images.docker_build)
    # A SpecError stops here, before anything is touched.
    recipe = plan(list(paths) or [Path.cwd()], sets=sets, endpoint_name=endpoint_name)
    if endpoint_name is not None or all_traffic:
        running = recall_spec(endpoint_name) if endpoint_name else None
        recipe = extend(running, recipe, all_traffic=all_traffic)
    endpoint = load_recipe(recipe)
    # an endpoint that runs stays on its engine (actions.up finds it when none is named)
    result = actions.up(endpoint, engine=engine_name,
                        settings=RunSettings(gpu=gpu, watch=not no_watch, strict=strict,
                                             expose=expose),
                        progress=_say)
    _say.clear()
    from devkit.cli.commands.status import render_table

    click.echo(render_table([result.status]))
    if result.status.scoring_uri:
        click.echo(f"scoring URI: {result.status.scoring_uri}")
    if attach:
        _attach(endpoint.name)
    result.raise_if_broken()


def _attach(name: str) -> None:
    from devkit import actions

    _say(f"attached to {name}'s logs; Ctrl-C detaches and leaves it running")
    try:
        for line in actions.logs(name, follow=True, tail=0):
            click.echo(line)
    except KeyboardInterrupt:
        _say(f"detached; {name} keeps running (`devkit down {name}` stops it)")
        sys.stdout.flush()
