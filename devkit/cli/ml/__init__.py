"""``devkit ml ...``: the ``az ml`` surface of local endpoints (deploy scripts run unchanged).

The same verbs, flags, aliases and JSON field names as the Azure ML CLI v2, so a script
written for the cloud runs here when ``az`` resolves to devkit (``devkit ml shim``):

    online-endpoint    create update show list invoke get-credentials regenerate-keys delete
    online-deployment  create update show list get-logs delete
    model              create list show          (the local asset registry)
    environment        create list show
    workspace          show
    shim               an ``az`` script for PATH

Modules: :mod:`.common` (az's group and flags), :mod:`.output` (``--query``, ``-o``),
:mod:`.views` (az's JSON shapes), :mod:`.uses` (what the verbs do to endpoints), one
module per noun. Changes to specs are computed in :mod:`devkit.spec.compose`.
"""

from __future__ import annotations

import click

from devkit.cli.ml.assets import environment, model
from devkit.cli.ml.common import AzGroup
from devkit.cli.ml.deployments import online_deployment
from devkit.cli.ml.endpoints import online_endpoint
from devkit.cli.ml.workspace import shim, workspace


@click.group("ml", cls=AzGroup)
def ml() -> None:
    """Azure ML CLI v2 verbs (az ml ...) on local endpoints.

    \b
    Examples:
      devkit ml online-endpoint create -n my-endpoint
      devkit ml online-deployment create -f blue.yml -e my-endpoint --all-traffic
      devkit ml online-endpoint invoke -n my-endpoint --request-file sample.json
      devkit ml online-endpoint get-credentials -n my-endpoint --query primaryKey -o tsv
      devkit ml model create --name my-model --version 1 --path model/
      devkit ml shim --install ~/.local/devkit-az
    """


for _group in (online_endpoint, online_deployment, model, environment, workspace, shim):
    ml.add_command(_group)

__all__ = ["ml"]
