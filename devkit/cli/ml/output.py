"""``--query`` and ``-o/--output`` exactly as az prints results.

az filters every result with ``--query`` (JMESPath, with the ``jmespath`` library az
itself uses) and prints it as ``json`` (the default: indented, keys sorted), ``jsonc``,
``yaml``, ``tsv`` (bare values: a string without quotes, a mapping's scalar values in key
order separated by tabs, one line per list item; what scripts capture with ``$(...)``),
``table`` or ``none``. The rules follow knack's output formatters, which az uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click
import jmespath
from jmespath.exceptions import JMESPathError

from devkit.errors import DevkitError

FORMATS = ("json", "jsonc", "yaml", "yamlc", "tsv", "table", "none")


class QueryError(DevkitError):
    """A ``--query`` that is not valid JMESPath."""

    exit_code = 2


def render(result: Any, query: str | None, output: str) -> str | None:
    """The text az would print for ``result`` (None prints nothing)."""
    if query:
        try:
            result = jmespath.search(query, result)
        except JMESPathError as exc:
            raise QueryError(f"--query '{query}' is not valid JMESPath ({exc}); see "
                             "https://jmespath.org for the syntax, e.g. --query "
                             "scoring_uri") from exc
    if output == "none":
        return None
    if output in ("json", "jsonc"):
        return json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False)
    if output in ("yaml", "yamlc"):
        import yaml

        return yaml.safe_dump(result, sort_keys=True, allow_unicode=True).rstrip("\n")
    if output == "tsv":
        return tsv(result)
    return table(result)


def emit(result: Any, query: str | None, output: str) -> None:
    text = render(result, query, output)
    if text is not None:
        click.echo(text)


def tsv(result: Any) -> str:
    """knack's tsv: one row per list item; a mapping's values sorted by key; nested
    mappings print nothing and nested lists their length."""
    rows = result if isinstance(result, list) else [result]
    if isinstance(result, list) and not result:
        return ""
    return "\n".join(_tsv_row(row) for row in rows)


def _tsv_row(row: Any) -> str:
    if isinstance(row, Mapping):
        return "\t".join(_tsv_cell(value) for _, value in sorted(row.items()))
    if isinstance(row, list):
        return "\t".join(_tsv_cell(value) for value in row)
    return _tsv_cell(row)


def _tsv_cell(value: Any) -> str:
    if value is None or isinstance(value, Mapping):
        return ""
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else str(value)


def table(result: Any) -> str:
    """A table of the scalar fields (az's ``-o table``); a scalar prints as itself."""
    rows = result if isinstance(result, list) else [result]
    mappings = [row for row in rows if isinstance(row, Mapping)]
    if not mappings:
        return "\n".join(_tsv_cell(row) for row in rows)
    columns: list[str] = []
    for row in mappings:
        columns += [key for key, value in row.items() if key not in columns
                    and not isinstance(value, (Mapping, list))]
    cells = [[_title(c) for c in columns]]
    cells += [[_tsv_cell(row.get(c)) for c in columns] for row in mappings]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
             for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _title(key: str) -> str:
    """``provisioning_state`` -> ``ProvisioningState`` (az's table headers)."""
    return "".join(part[:1].upper() + part[1:] for part in key.replace("-", "_").split("_"))
