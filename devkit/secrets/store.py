"""Where secret values come from locally, and the store behind ``devkit secrets``.

A reference (:class:`~devkit.secrets.refs.SecretRef`) resolves from the first of:

1. the invoking environment, as ``AZUREML_CONNECTIONS__<NAME>__CREDENTIALS__<KEY>`` (one
   shell, one CI job: the most explicit source wins);
2. a ``.env`` file next to the spec (the endpoint's and each deployment's folder), same
   names, read with python-dotenv (the format every other tool reads); keep it git-ignored;
3. ``devkit secrets set azureml://connections/NAME/credentials/KEY`` (value read from
   stdin), kept in ``<config dir>/secrets.json``, mode 0600 in a 0700 folder.

Values are only ever read here and handed to the engines for delivery; nothing in this
module logs or prints one.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from devkit.errors import DevkitError
from devkit.paths import config_dir
from devkit.secrets.refs import SecretRef, parse_uri

STORE_FILE = "secrets.json"


class SecretStoreError(DevkitError):
    """The secrets store cannot be read or written."""

    exit_code = 2


def store_path() -> Path:
    return config_dir() / STORE_FILE


def _load_store() -> dict[str, str]:
    path = store_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SecretStoreError(f"Cannot read the secrets store {path} ({exc}); fix or remove "
                               "it, then set the secrets again with `devkit secrets set`.") from exc
    if not isinstance(raw, dict):
        raise SecretStoreError(f"The secrets store {path} is not a JSON object; remove it and "
                               "set the secrets again with `devkit secrets set`.")
    return {str(k): str(v) for k, v in raw.items()}


def _save_store(values: Mapping[str, str]) -> None:
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    # Created 0600 from the start: the value never sits in a world-readable file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(sorted(values.items())), out, indent=2)
        out.write("\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def set_secret(uri: str, value: str) -> SecretRef:
    """Store ``value`` for reference ``uri`` (ValueError for a malformed uri)."""
    ref = parse_uri(uri)
    values = _load_store()
    values[ref.uri] = value
    _save_store(values)
    return ref


def remove_secret(uri: str) -> bool:
    """Forget ``uri``; False when the store did not hold it."""
    ref = parse_uri(uri)
    values = _load_store()
    if values.pop(ref.uri, None) is None:
        return False
    _save_store(values)
    return True


def stored_names() -> list[str]:
    """The references the store holds (never their values)."""
    return sorted(_load_store())


def dotenv_values_in(folders: Iterable[Path]) -> dict[str, str]:
    """Variables of the ``.env`` files in ``folders`` (earlier folders win)."""
    from dotenv import dotenv_values

    found: dict[str, str] = {}
    for folder in folders:
        path = folder / ".env"
        if path.is_file():
            with contextlib.suppress(OSError):
                for key, value in dotenv_values(path).items():
                    if value is not None:
                        found.setdefault(key, value)
    return found


class Lookup:
    """The three sources, read once per ``up``: ``find(ref)`` gives the value or None."""

    def __init__(self, folders: Iterable[Path], environ: Mapping[str, str] | None = None):
        self.environ = dict(os.environ if environ is None else environ)
        self.dotenv = dotenv_values_in(folders)
        self.stored = _load_store()

    def find(self, ref: SecretRef) -> str | None:
        for source in (self.environ, self.dotenv):
            if ref.env_name in source:
                return source[ref.env_name]
        return self.stored.get(ref.uri)
