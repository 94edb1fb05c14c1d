"""Secret values handed over by file, exported into the worker's environment before init().

devkit resolves a deployment's ``${{azureml://connections/...}}`` references on the host
and writes the values to a 0600 file (read-only bind mount in a container); the variable
``DEVKIT_SECRETS_FILE`` names it. Exporting here, in each worker, means score.py reads
``os.environ[...]`` as it does in Azure, while the values stay out of the container's
configuration (``docker inspect``), its image and its logs. Nothing here logs a value.
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping

ENV = "DEVKIT_SECRETS_FILE"


class SecretsFileError(RuntimeError):
    """The secrets file named by DEVKIT_SECRETS_FILE is unreadable or malformed."""


def export(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Read the file named by ``DEVKIT_SECRETS_FILE`` (if any) into ``environ``; return the
    variable names set (never the values)."""
    target = os.environ if environ is None else environ
    path = target.get(ENV)
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            values = json.load(handle)
    except (OSError, ValueError) as exc:
        raise SecretsFileError(f"cannot read the secrets file {path} ({type(exc).__name__}); "
                               "run `devkit up` again to rewrite it") from None
    if not isinstance(values, dict):
        raise SecretsFileError(f"the secrets file {path} is not a JSON object; run `devkit up` "
                               "again to rewrite it")
    for name, value in values.items():
        target[str(name)] = str(value)
    return sorted(values)
