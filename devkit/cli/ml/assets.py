"""``devkit ml model|environment create/list/show``: the local asset registry, az's way.

Registered versions resolve ``model: azureml:NAME:VERSION`` / ``azureml:NAME@latest`` (and
the same for environments) in deployment files; see :mod:`devkit.assets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from devkit.assets import local_registry
from devkit.assets.curated import CURATED, write_equivalent
from devkit.cli.ml.common import AzGroup, az_command, sets_option
from devkit.cli.ml.views import asset_view
from devkit.errors import AssetError
from devkit.spec.assetfiles import read_environment_file, read_model_file


@click.group("model", cls=AzGroup)
def model() -> None:
    """Register models locally so deployments can name them as azureml:NAME:VERSION.

    \b
    Examples:
      devkit ml model create -f model.yml
      devkit ml model create --name sklearn-model --version 1 --path model/
      devkit ml model list -o table
      devkit ml model show -n sklearn-model --version 1
    """


@click.group("environment", cls=AzGroup)
def environment() -> None:
    """Register environments locally so deployments can name them as azureml:NAME@latest.

    \b
    Examples:
      devkit ml environment create -f environment.yml
      devkit ml environment create --curated AzureML-sklearn-1.0-ubuntu20.04-py38-cpu
      devkit ml environment list
    """


def _file() -> Any:
    return click.option("-f", "--file", "file", default=None,
                        type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="The asset's YAML file.")


def _origin(file: Path | None) -> str:
    return str(file.resolve()) if file is not None else "command-line flags"


@az_command(model, "create")
@_file()
@click.option("-n", "--name", default=None, help="The model's name (over the file's).")
@click.option("-v", "--version", default=None, help="Its version (default: the next one).")
@click.option("-p", "--path", default=None, help="The model folder or file.")
@click.option("-t", "--type", "kind", default=None,
              help="custom_model (default), mlflow_model or triton_model.")
@click.option("-d", "--description", default=None, help="A description.")
@sets_option
def model_create(file: Path | None, name: str | None, version: str | None, path: str | None,
                 kind: str | None, description: str | None,
                 sets: tuple[str, ...]) -> dict[str, Any]:
    """Register a model version from -f model.yml and/or the flags.

    \b
    Examples:
      devkit ml model create -f model.yml --set version=2
      devkit ml model create --name sklearn-model --version 1 --path model/
    """
    flags = {"name": name, "version": version, "path": path, "type": kind,
             "description": description}
    asset = read_model_file(file, flags, sets)
    return asset_view(local_registry().register_model(asset, _origin(file)))


@az_command(environment, "create")
@_file()
@click.option("-n", "--name", default=None, help="The environment's name (over the file's).")
@click.option("-v", "--version", default=None, help="Its version (default: the next one).")
@click.option("-i", "--image", default=None, help="The base image.")
@click.option("--conda-file", default=None, help="A conda file for the image.")
@click.option("-b", "--build-context", default=None, help="A Docker build context folder.")
@click.option("--dockerfile-path", default=None, help="The Dockerfile in the build context.")
@click.option("--curated", default=None, metavar="AZUREML-NAME",
              help="Register devkit's equivalent of this Azure curated environment.")
@sets_option
def environment_create(file: Path | None, name: str | None, version: str | None,
                       image: str | None, conda_file: str | None, build_context: str | None,
                       dockerfile_path: str | None, curated: str | None,
                       sets: tuple[str, ...]) -> dict[str, Any]:
    """Register an environment version from -f environment.yml and/or the flags.

    \b
    Examples:
      devkit ml environment create -f environment.yml
      devkit ml environment create --name my-env --image python:3.11-slim --conda-file conda.yml
      devkit ml environment create --curated AzureML-sklearn-1.0-ubuntu20.04-py38-cpu
    """
    registry = local_registry()
    if curated is not None:
        name, conda_file, image = _curated(curated, registry.root)
    flags = {"name": name, "version": version, "image": image, "conda_file": conda_file,
             "build.path": build_context, "build.dockerfile_path": dockerfile_path}
    asset = read_environment_file(file, flags, sets)
    origin = f"devkit's equivalent of {curated}" if curated else _origin(file)
    return asset_view(registry.register_environment(asset, origin))


def _curated(name: str, root: Path) -> tuple[str, str, str]:
    from devkit.assets.curated import BASE_IMAGE

    found = next((key for key in CURATED if key.lower() == name.lower()), None)
    if found is None:
        raise AssetError(f"devkit has no equivalent of '{name}'; it has: "
                         f"{', '.join(sorted(CURATED))}. Register your own with `devkit ml "
                         "environment create -f environment.yml`.")
    conda = write_equivalent(found, root / "curated" / found)
    return found, str(conda), BASE_IMAGE


def _list(kind: str, name: str | None) -> list[dict[str, Any]]:
    records = local_registry().list("model" if kind == "model" else "environment", name)
    return [asset_view(r) for r in reversed(records)]


def _show(kind: str, name: str, version: str | None, label: str | None) -> dict[str, Any]:
    if label not in (None, "latest"):
        raise AssetError(f"--label '{label}' is not known locally; devkit knows the label "
                         "'latest' (or give --version).")
    registry = local_registry()
    record = registry.show("model" if kind == "model" else "environment", name, version)
    return asset_view(record)


@az_command(model, "list")
@click.option("-n", "--name", default=None, help="Only versions of this model.")
def model_list(name: str | None) -> list[dict[str, Any]]:
    """List registered models, newest first.

    \b
    Examples:
      devkit ml model list -o table
    """
    return _list("model", name)


@az_command(environment, "list")
@click.option("-n", "--name", default=None, help="Only versions of this environment.")
def environment_list(name: str | None) -> list[dict[str, Any]]:
    """List registered environments, newest first.

    \b
    Examples:
      devkit ml environment list -o table
    """
    return _list("environment", name)


@az_command(model, "show")
@click.option("-n", "--name", required=True, help="The model's name.")
@click.option("-v", "--version", default=None, help="The version (default: the latest).")
@click.option("-l", "--label", default=None, help="latest")
def model_show(name: str, version: str | None, label: str | None) -> dict[str, Any]:
    """Show one registered model version.

    \b
    Examples:
      devkit ml model show -n sklearn-model --version 1 --query path -o tsv
    """
    return _show("model", name, version, label)


@az_command(environment, "show")
@click.option("-n", "--name", required=True, help="The environment's name.")
@click.option("-v", "--version", default=None, help="The version (default: the latest).")
@click.option("-l", "--label", default=None, help="latest")
def environment_show(name: str, version: str | None, label: str | None) -> dict[str, Any]:
    """Show one registered environment version.

    \b
    Examples:
      devkit ml environment show -n my-env --label latest
    """
    return _show("environment", name, version, label)
