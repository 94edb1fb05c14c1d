"""Azure's secret references in deployment ``environment_variables``, parsed (pure, no I/O).

Azure ML resolves a value of the form ``${{azureml://connections/NAME/credentials/KEY}}``
(also ``.../NAME/target`` and ``.../NAME/metadata/KEY``) from a workspace connection when
the replica starts, and hands the user container the resolved value as an ordinary
environment variable. devkit does the same from a local store (:mod:`devkit.secrets.store`);
this module only finds the references and names the places a value can come from.

A reference may stand alone (the usual case) or inside a longer value
(``postgres://app:${{azureml://connections/db/credentials/password}}@db/app``); every
occurrence is substituted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# NAME: an Azure connection name (letters, digits, '-', '_'); KEY likewise plus '.'.
_REF = re.compile(
    r"\$\{\{\s*azureml://connections/(?P<name>[A-Za-z0-9_-]+)/"
    r"(?P<part>credentials/(?P<ckey>[A-Za-z0-9_.-]+)|target|metadata/(?P<mkey>[A-Za-z0-9_.-]+))"
    r"\s*\}\}")
ENV_PREFIX = "AZUREML_CONNECTIONS"


@dataclass(frozen=True, order=True)
class SecretRef:
    """One ``azureml://connections/...`` reference."""

    connection: str
    kind: str  # "credentials" | "target" | "metadata"
    key: str | None = None

    @property
    def uri(self) -> str:
        tail = self.kind if self.key is None else f"{self.kind}/{self.key}"
        return f"azureml://connections/{self.connection}/{tail}"

    @property
    def env_name(self) -> str:
        """The variable that supplies it in the invoking environment or a ``.env`` file:
        ``AZUREML_CONNECTIONS__<NAME>__CREDENTIALS__<KEY>`` (``__TARGET``,
        ``__METADATA__<KEY>``), upper-cased, with ``-`` and ``.`` written ``_``. Double
        underscores separate the parts because names may hold single ones."""
        parts = [ENV_PREFIX, self.connection, self.kind] + ([self.key] if self.key else [])
        return "__".join(re.sub(r"[^A-Za-z0-9_]", "_", p).upper() for p in parts)


def parse_uri(text: str) -> SecretRef:
    """``azureml://connections/NAME/credentials/KEY`` (as ``devkit secrets set`` takes it)
    → a :class:`SecretRef`; ValueError with the accepted forms otherwise."""
    match = _REF.fullmatch("${{" + text.strip() + "}}")
    if match is None:
        raise ValueError(f"'{text}' is not a connection reference; use "
                         "azureml://connections/NAME/credentials/KEY, "
                         "azureml://connections/NAME/target or "
                         "azureml://connections/NAME/metadata/KEY")
    return _ref_of(match)


def _ref_of(match: re.Match[str]) -> SecretRef:
    part = match.group("part")
    if part == "target":
        return SecretRef(match.group("name"), "target")
    kind = part.split("/", 1)[0]
    return SecretRef(match.group("name"), kind, match.group("ckey") or match.group("mkey"))


def refs_in(value: str) -> list[SecretRef]:
    """Every reference in one environment variable's value, in order."""
    return [_ref_of(m) for m in _REF.finditer(value)]


def references(env: Mapping[str, str]) -> dict[str, list[SecretRef]]:
    """Variable name → the references its value holds (variables without any left out)."""
    return {name: found for name, value in env.items() if (found := refs_in(value))}


def substitute(value: str, values: Mapping[SecretRef, str]) -> str:
    """``value`` with every reference replaced by its resolved text."""
    return _REF.sub(lambda m: values[_ref_of(m)], value)
