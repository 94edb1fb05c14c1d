"""``devkit secrets``: the local store behind ``${{azureml://connections/...}}`` references."""

from __future__ import annotations

import json
import sys

import click


@click.group("secrets")
def secrets() -> None:
    """Keep the values that deployments reference as Azure connection secrets.

    A deployment's environment_variables may say
    ${{azureml://connections/NAME/credentials/KEY}} (or .../target, .../metadata/KEY), as in
    Azure. `devkit up` resolves each reference when a replica starts, from the first of:
    the environment (AZUREML_CONNECTIONS__NAME__CREDENTIALS__KEY), a .env file next to the
    spec (same names), and this store. Values never go into images, labels, `docker
    inspect`, logs or `devkit status`.

    \b
    Examples:
      printf %s "$DB_PASSWORD" | devkit secrets set azureml://connections/db/credentials/password
      devkit secrets list
      devkit secrets rm azureml://connections/db/credentials/password
    """


@secrets.command("set")
@click.argument("uri")
def set_(uri: str) -> None:
    """Store the value of URI, read from stdin (never from the command line, so it stays
    out of shell history and `ps`). On a terminal it is asked for without echo.

    \b
    Example:
      devkit secrets set azureml://connections/openai/credentials/key < key.txt
    """
    from devkit.secrets.store import set_secret

    if sys.stdin.isatty():
        value = click.prompt(f"value of {uri}", hide_input=True, err=True)
    else:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value  # `echo` adds one
    try:
        ref = set_secret(uri, value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URI") from exc
    click.echo(f"{ref.uri}: stored; `devkit up` restarts the deployments that use it", err=True)


@secrets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of references.")
def list_(as_json: bool) -> None:
    """List the stored references (never their values).

    \b
    Example:
      devkit secrets list --json
    """
    from devkit.secrets.store import stored_names

    names = stored_names()
    if as_json:
        click.echo(json.dumps(names))
    elif names:
        click.echo("\n".join(names))
    else:
        click.echo("no secrets stored (add one with `devkit secrets set URI`)", err=True)


@secrets.command("rm")
@click.argument("uri")
def rm(uri: str) -> None:
    """Forget the stored value of URI.

    \b
    Example:
      devkit secrets rm azureml://connections/db/credentials/password
    """
    from devkit.errors import DevkitError
    from devkit.secrets.store import remove_secret, stored_names

    try:
        removed = remove_secret(uri)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URI") from exc
    if not removed:
        held = ", ".join(stored_names()) or "none"
        raise DevkitError(f"No stored secret {uri} (stored: {held}); list them with "
                          "`devkit secrets list`.")
    click.echo(f"{uri}: removed", err=True)
