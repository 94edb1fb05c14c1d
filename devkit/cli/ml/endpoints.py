"""``devkit ml online-endpoint ...``: az's endpoint verbs on local endpoints."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from devkit.cli.ml import uses
from devkit.cli.ml.common import AzGroup, az_command, confirm, sets_option, yes_option
from devkit.cli.ml.views import endpoint_view
from devkit.errors import DevkitError, InvokeError
from devkit.spec import Recipe, SpecFile, parse_traffic_args, plan
from devkit.spec.compose import set_traffic


@click.group("online-endpoint", cls=AzGroup)
def online_endpoint() -> None:
    """Manage local online endpoints with az's verbs and flags.

    \b
    Examples:
      devkit ml online-endpoint create -n my-endpoint
      devkit ml online-endpoint show -n my-endpoint --query scoring_uri -o tsv
      devkit ml online-endpoint update -n my-endpoint --traffic "blue=90 green=10"
      devkit ml online-endpoint invoke -n my-endpoint --request-file sample.json
      devkit ml online-endpoint get-credentials -n my-endpoint --query primaryKey -o tsv
      devkit ml online-endpoint delete -n my-endpoint --yes
    """


def _name_option(required: bool = True) -> Any:
    return click.option("-n", "--name", required=required, help="The endpoint's name.")


def _file_option() -> Any:
    return click.option("-f", "--file", "file", default=None,
                        type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="The endpoint's YAML file.")


@az_command(online_endpoint, "create")
@_name_option(required=False)
@_file_option()
@click.option("--auth-mode", default=None, help="key (default) or aml_token.")
@sets_option
def create(name: str | None, file: Path | None, auth_mode: str | None,
           sets: tuple[str, ...]) -> dict[str, Any]:
    """Create (or update) an endpoint from -f FILE, or from its name alone (key auth).

    \b
    Examples:
      devkit ml online-endpoint create -n my-endpoint
      devkit ml online-endpoint create -f endpoint.yml --set auth_mode=aml_token
    """
    extra = (f"auth_mode={auth_mode}",) if auth_mode else ()
    if file is not None:
        recipe = plan([file], sets=[f"endpoint:{s}" for s in sets + extra], endpoint_name=name)
    elif name is None:
        raise click.UsageError("give the endpoint's name with -n NAME, or a file with -f.")
    else:
        recipe = Recipe(endpoint=SpecFile(None, sets + extra), name=name)
    existing = uses.known_or_none(recipe.name or _name_in(recipe))
    if existing is not None and existing.spec.recipe is not None:
        recipe = dataclasses.replace(existing.spec.recipe, endpoint=recipe.endpoint,
                                     name=recipe.name)
    found = uses.apply(recipe)
    return endpoint_view(found.spec, found.status)


def _name_in(recipe: Recipe) -> str:
    from devkit.spec import load_recipe

    return load_recipe(recipe).name


@az_command(online_endpoint, "update")
@_name_option()
@_file_option()
@click.option("--traffic", default=None, metavar='"NAME=PCT ..."',
              help='Live weights, e.g. "blue=90 green=10".')
@click.option("--mirror-traffic", default=None, metavar='"NAME=PCT"',
              help='Copy a share of live requests, e.g. "green=10" ("green=0" stops it).')
@sets_option
def update(name: str, file: Path | None, traffic: str | None, mirror_traffic: str | None,
           sets: tuple[str, ...]) -> dict[str, Any]:
    """Change an endpoint: its traffic, mirror traffic, file or fields (--set).

    \b
    Examples:
      devkit ml online-endpoint update -n my-endpoint --traffic "blue=90 green=10"
      devkit ml online-endpoint update -n my-endpoint --mirror-traffic "green=10"
    """
    current = uses.known(name)
    recipe = current.spec.recipe
    assert recipe is not None  # every loaded spec carries its recipe
    endpoint = SpecFile(file.resolve(), sets) if file else recipe.endpoint.with_sets(*sets)
    recipe = dataclasses.replace(recipe, endpoint=endpoint)
    live = parse_traffic_args(traffic.split(), what="--traffic") if traffic else None
    mirror = (parse_traffic_args(mirror_traffic.split(), what="--mirror-traffic")
              if mirror_traffic else None)
    if mirror is not None:
        mirror = {k: v for k, v in mirror.items() if v}
    recipe = set_traffic(recipe, live, mirror)
    found = uses.apply(recipe, current.engine)
    return endpoint_view(found.spec, found.status)


@az_command(online_endpoint, "show")
@_name_option()
def show(name: str) -> dict[str, Any]:
    """Show an endpoint as az does (scoring_uri, openapi_uri, traffic, ...).

    \b
    Examples:
      devkit ml online-endpoint show -n my-endpoint
      devkit ml online-endpoint show -n my-endpoint --query provisioning_state -o tsv
    """
    found = uses.known(name)
    return endpoint_view(found.spec, found.status)


@az_command(online_endpoint, "list")
def list_endpoints() -> list[dict[str, Any]]:
    """List the endpoints devkit knows.

    \b
    Examples:
      devkit ml online-endpoint list -o table
    """
    views = []
    for name in uses.names():
        found = uses.known_or_none(name)
        if found is not None:
            views.append(endpoint_view(found.spec, found.status))
    return views


@az_command(online_endpoint, "invoke")
@_name_option()
@click.option("-r", "--request-file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File whose bytes are POSTed as the request body.")
@click.option("-d", "--deployment-name", "--deployment", "deployment", default=None,
              help="Send to this deployment (header azureml-model-deployment).")
def invoke(name: str, request_file: Path, deployment: str | None) -> str:
    """POST a request file to the endpoint's scoring URI with its key or token and print
    the response body as a JSON string, as az does.

    \b
    Examples:
      devkit ml online-endpoint invoke -n my-endpoint --request-file sample.json
      devkit ml online-endpoint invoke -n my-endpoint -r sample.json -d green -o tsv
    """
    from devkit import actions

    found = uses.known(name)
    uri = found.status.scoring_uri if found.status else None
    if found.status is None or uri is None:
        raise InvokeError(f"Endpoint '{name}' has no deployment running to answer; create "
                          f"one with `devkit ml online-deployment create -f D.yml -e {name} "
                          "--all-traffic`.")
    route = actions.Route(name, uri, tuple(d.name for d in found.status.deployments))
    answer = actions.invoke(route, request_file.read_bytes(), deployment=deployment)
    if not answer.ok:
        raise InvokeError(answer.failure())
    text = answer.body.decode("utf-8", errors="replace")
    # devkit's server ends bodies with a newline, Azure's does not: print what az prints.
    return text[:-1] if text.endswith("\n") else text


@az_command(online_endpoint, "get-credentials")
@_name_option()
def get_credentials(name: str) -> dict[str, Any]:
    """The endpoint's keys (primaryKey, secondaryKey) or an access token (aml_token).

    \b
    Examples:
      devkit ml online-endpoint get-credentials -n my-endpoint --query primaryKey -o tsv
    """
    from devkit.router import keys
    from devkit.router.tokens import issue_token

    found = uses.known(name)
    if found.spec.spec.auth_mode.value == "aml_token":
        issued = issue_token(name)
        expiry = int(issued.expires_at.timestamp())
        return {"accessToken": issued.token, "expiryTimeUtc": expiry,
                "refreshAfterTimeUtc": expiry - 900, "tokenType": "Bearer"}
    found_keys = keys.load_or_create_keys(name)
    return {"primaryKey": found_keys.primary, "secondaryKey": found_keys.secondary}


@az_command(online_endpoint, "regenerate-keys")
@_name_option()
@click.option("--key-type", type=click.Choice(["primary", "secondary"]), default="primary",
              show_default=True, help="Which key to replace.")
def regenerate_keys(name: str, key_type: str) -> None:
    """Replace one key (the other stays valid); the router takes it live.

    \b
    Examples:
      devkit ml online-endpoint regenerate-keys -n my-endpoint --key-type secondary
    """
    from devkit.router import keys
    from devkit.router.control import refresh_key_hashes

    found = uses.known(name)
    if found.spec.spec.auth_mode.value != "key":
        raise DevkitError(f"Endpoint '{name}' uses auth_mode {found.spec.spec.auth_mode.value}"
                          "; only key endpoints have keys to regenerate.")
    new = keys.regenerate_key(name, key_type)
    if found.status is not None:
        refresh_key_hashes(name, keys.key_hashes(new))


@az_command(online_endpoint, "delete", output=False)
@_name_option()
@yes_option
def delete(name: str, yes: bool) -> None:
    """Delete an endpoint and all its deployments.

    \b
    Examples:
      devkit ml online-endpoint delete -n my-endpoint --yes
    """
    uses.known(name)
    confirm(yes, f"Are you sure you want to delete endpoint '{name}' and its deployments?")
    uses.delete(name)
    uses.say(f"{name}: deleted")
