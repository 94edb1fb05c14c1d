"""``--set path.to.field=value``: az's placeholder syntax, applied to a spec before validation.

An :class:`Override` is parsed once from the flag's text and applied to the freshly read
YAML mapping, so the spec readers validate the overridden value exactly as if it had
been written in the file. Every value an override puts in place is remembered in the
mapping's ``set_by``, so an error about it names the ``--set`` that wrote it rather
than a line of the file. Pure: no I/O.

Paths are dotted keys with optional list indexes (``request_settings.request_timeout_ms``,
``environment_variables.MODE``, ``tags.team``, ``items[0].name``); a key holding a dot
is written in double quotes (``resources.limits."nvidia.com/gpu"=1``). The value is read
as one YAML scalar or flow collection, as az reads it: ``2`` is a number, ``true`` a
boolean, ``{blue: 100}`` a mapping; a field that takes text gets the characters as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from devkit.errors import SpecError
from devkit.spec.fields import type_name
from devkit.spec.yamlsource import YamlMap

PathPart = str | int
_PART = re.compile(r'"([^"]+)"|([^.\[\]"]+)|\[(\d+)\]')


@dataclass(frozen=True)
class Override:
    """One ``--set``: where it writes, what, and how the user typed it."""

    flag: str  # as messages name it: "--set instance_count=2", "-e my-endpoint"
    path: tuple[PathPart, ...]
    value: Any
    text: str  # the value's characters as typed (for fields that take text)

    @property
    def dotted(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


def parse_override(arg: str, *, flag: str = "--set") -> Override:
    """``"request_settings.request_timeout_ms=9000"`` into an Override; SpecError naming
    the flag when it is not ``PATH=VALUE``."""
    shown = f"{flag} {arg}"
    key, sep, text = arg.partition("=")
    if not sep or not key.strip():
        raise SpecError(f"`{shown}` is not PATH=VALUE; write it like "
                        "`--set instance_count=2`")
    return Override(shown, _parse_path(key.strip(), shown), _parse_value(text), text)


def field_override(key: str, value: str, flag: str) -> Override:
    """An override a flag implies (``-e NAME`` sets ``endpoint_name``)."""
    return Override(flag, (key,), value, value)


def _parse_path(key: str, shown: str) -> tuple[PathPart, ...]:
    parts: list[PathPart] = []
    position = 0
    while position < len(key):
        match = _PART.match(key, position)
        if match is None or (match.group(3) is None and parts and key[position - 1] != "."):
            raise SpecError(f"`{shown}` has a path that cannot be read at "
                            f"'{key[position:]}'; write keys separated by dots, list indexes "
                            "as [0], and quote a key holding a dot")
        quoted, plain, index = match.groups()
        parts.append(int(index) if index is not None else (quoted or plain or "").strip())
        position = match.end()
        if position < len(key) and key[position] == "." and position + 1 < len(key):
            position += 1
    if not parts or isinstance(parts[0], int):
        raise SpecError(f"`{shown}` must start with a field name; write it like "
                        "`--set instance_count=2`")
    return tuple(parts)


def _parse_value(text: str) -> Any:
    if not text.strip():
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # not YAML (an unbalanced brace, say): the text itself
    return to_yaml_maps(value)


def to_yaml_maps(value: Any) -> Any:
    """Mappings as YamlMap (the readers expect them), recursively."""
    if isinstance(value, dict):
        result = YamlMap()
        for key, item in value.items():
            result[key] = to_yaml_maps(item)
        return result
    if isinstance(value, list):
        return [to_yaml_maps(item) for item in value]
    return value


def apply_overrides(root: Any, overrides: Iterable[Override]) -> YamlMap:
    """``root`` (a document's mapping, or None for an empty one) with every override
    applied in order; later overrides win. Mutates and returns the mapping."""
    document = root if isinstance(root, YamlMap) else YamlMap()
    for override in overrides:
        _apply(document, override)
    return document


def _apply(document: YamlMap, override: Override) -> None:
    container: Any = document
    for depth, part in enumerate(override.path[:-1]):
        container = _step(container, part, override, depth)
    last = override.path[-1]
    if isinstance(last, int):
        _check_index(container, last, override, len(override.path) - 1)
        container[last] = override.value
        return
    if not isinstance(container, YamlMap):
        raise _cannot(override, len(override.path) - 1, container, "a mapping")
    container[last] = override.value
    container.set_by[last] = override


def _step(container: Any, part: PathPart, override: Override, depth: int) -> Any:
    if isinstance(part, int):
        _check_index(container, part, override, depth)
        return container[part]
    if not isinstance(container, YamlMap):
        raise _cannot(override, depth, container, "a mapping")
    if container.get(part) is None:
        created = YamlMap(line=container.key_line(part))
        container[part] = created
        container.set_by[part] = override
    return container[part]


def _check_index(container: Any, index: int, override: Override, depth: int) -> None:
    if not isinstance(container, list):
        raise _cannot(override, depth, container, "a list")
    if index >= len(container):
        where = _prefix(override, depth) or "the document"
        raise SpecError(f"`{override.flag}` cannot be applied: {where} has "
                        f"{len(container)} item(s), so [{index}] does not exist; use an "
                        "index below that")


def _cannot(override: Override, depth: int, found: Any, wanted: str) -> SpecError:
    where = _prefix(override, depth) or "the document"
    return SpecError(f"`{override.flag}` cannot be applied: {where} holds "
                     f"{type_name(found)}, not {wanted}; fix the path")


def _prefix(override: Override, depth: int) -> str:
    partial = Override(override.flag, override.path[:depth], None, "")
    return f"'{partial.dotted}'" if depth else ""
