"""``devkit ml online-deployment ...``: az's deployment verbs on local endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from devkit.cli.ml import uses
from devkit.cli.ml.common import AzGroup, az_command, confirm, sets_option, yes_option
from devkit.cli.ml.views import deployment_view
from devkit.errors import ScriptError, SpecError
from devkit.spec import Recipe, SpecFile, endpoint_of
from devkit.spec.compose import extend, override_deployment, remove_deployment


@click.group("online-deployment", cls=AzGroup)
def online_deployment() -> None:
    """Manage the deployments of local online endpoints with az's verbs and flags.

    \b
    Examples:
      devkit ml online-deployment create -f blue.yml -e my-endpoint --all-traffic
      devkit ml online-deployment update -n blue -e my-endpoint --set instance_count=2
      devkit ml online-deployment get-logs -n blue -e my-endpoint --lines 50
      devkit ml online-deployment delete -n blue -e my-endpoint --yes
    """


def _endpoint_option(required: bool = True) -> Any:
    return click.option("-e", "--endpoint-name", "--endpoint", "endpoint", required=required,
                        help="The endpoint's name.")


def _view(found: uses.Known, name: str) -> dict[str, Any]:
    spec = next((d for d in found.spec.deployments if d.name == name), None)
    if spec is None:
        names = ", ".join(d.name for d in found.spec.deployments) or "none"
        raise SpecError(f"endpoint '{found.spec.name}' has no deployment '{name}' "
                        f"(deployments: {names}); pick one of those")
    status = found.status.deployment(name) if found.status else None
    return deployment_view(spec, status)


def _ready(found: uses.Known, name: str) -> dict[str, Any]:
    """The deployment's view; a deployment that did not become ready fails the command
    (as az's create does), after its error."""
    view = _view(found, name)
    status = found.status.deployment(name) if found.status else None
    if status is not None and status.error:
        raise ScriptError(f"Deployment '{name}' of '{found.spec.name}' failed: {status.error}\n"
                          f"See `devkit ml online-deployment get-logs -n {name} -e "
                          f"{found.spec.name}`.")
    return view


@az_command(online_deployment, "create")
@click.option("-f", "--file", "file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The deployment's YAML file.")
@click.option("-n", "--name", default=None, help="The deployment's name (over the file's).")
@_endpoint_option(required=False)
@click.option("--all-traffic", is_flag=True, help="Send 100% of live traffic to it.")
@click.option("--skip-script-validation", is_flag=True, hidden=True)
@click.option("--package-model", is_flag=True, hidden=True)
@sets_option
def create(file: Path, name: str | None, endpoint: str | None, all_traffic: bool,
           sets: tuple[str, ...], skip_script_validation: bool,
           package_model: bool) -> dict[str, Any]:
    """Add a deployment to an existing endpoint (or replace the one with its name); the
    endpoint's other deployments keep running untouched.

    \b
    Examples:
      devkit ml online-deployment create -f blue.yml -e my-endpoint --all-traffic
      devkit ml online-deployment create -f green.yml -n green --set instance_count=2
    """
    all_sets = ((f"name={name}",) if name else ()) + sets
    endpoint = endpoint or endpoint_of(file, all_sets)
    if endpoint is None:
        raise SpecError("the deployment names no endpoint; add `endpoint_name:` to it or pass "
                        "-e ENDPOINT", file=str(file), field="endpoint_name")
    current = uses.known(endpoint)
    addition = Recipe(endpoint=SpecFile(None), name=endpoint,
                      deployments=(SpecFile(file.resolve(), all_sets),))
    recipe = extend(current.spec, addition, all_traffic=all_traffic)
    found = uses.apply(recipe, current.engine)
    added = next(d.name for d in reversed(found.spec.deployments)
                 if d.source.file == file.resolve())
    return _ready(found, added)


@az_command(online_deployment, "update")
@click.option("-n", "--name", required=True, help="The deployment's name.")
@_endpoint_option()
@click.option("-f", "--file", "file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A new YAML file for the deployment (optional).")
@sets_option
def update(name: str, endpoint: str, file: Path | None,
           sets: tuple[str, ...]) -> dict[str, Any]:
    """Change one deployment (its fields with --set, or its file); the others keep running.

    \b
    Examples:
      devkit ml online-deployment update -n blue -e my-endpoint --set instance_count=2
      devkit ml online-deployment update -n blue -e my-endpoint -f blue.yml
    """
    current = uses.known(endpoint)
    replaced = SpecFile(file.resolve()) if file is not None else None
    found = uses.apply(override_deployment(current.spec, name, sets, replaced), current.engine)
    return _ready(found, name)


@az_command(online_deployment, "show")
@click.option("-n", "--name", required=True, help="The deployment's name.")
@_endpoint_option()
def show(name: str, endpoint: str) -> dict[str, Any]:
    """Show a deployment as az does.

    \b
    Examples:
      devkit ml online-deployment show -n blue -e my-endpoint --query instance_count
    """
    return _view(uses.known(endpoint), name)


@az_command(online_deployment, "list")
@_endpoint_option()
def list_deployments(endpoint: str) -> list[dict[str, Any]]:
    """List an endpoint's deployments.

    \b
    Examples:
      devkit ml online-deployment list -e my-endpoint -o table
    """
    found = uses.known(endpoint)
    return [_view(found, d.name) for d in found.spec.deployments]


@az_command(online_deployment, "get-logs", output=False)
@click.option("-n", "--name", required=True, help="The deployment's name.")
@_endpoint_option()
@click.option("-l", "--lines", type=int, default=None, help="Lines from the end of each log.")
@click.option("-c", "--container", default=None, hidden=True)
def get_logs(name: str, endpoint: str, lines: int | None, container: str | None) -> None:
    """Print a deployment's server logs (score.py's print() output included).

    \b
    Examples:
      devkit ml online-deployment get-logs -n blue -e my-endpoint --lines 50
    """
    _view(uses.known(endpoint), name)  # names the deployments when it is not one of them
    for line in uses.logs(endpoint, name, lines):
        click.echo(line)


@az_command(online_deployment, "delete", output=False)
@click.option("-n", "--name", required=True, help="The deployment's name.")
@_endpoint_option()
@yes_option
def delete(name: str, endpoint: str, yes: bool) -> None:
    """Delete a deployment (refused while it has live traffic, as in Azure).

    \b
    Examples:
      devkit ml online-deployment delete -n green -e my-endpoint --yes
    """
    current = uses.known(endpoint)
    recipe = remove_deployment(current.spec, name)
    confirm(yes, f"Are you sure you want to delete deployment '{name}' of '{endpoint}'?")
    uses.apply(recipe, current.engine)
    uses.say(f"{endpoint}/{name}: deleted")
