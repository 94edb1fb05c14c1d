"""Reading one YAML file while remembering where every key and value was written.

PyYAML's node marks know the line of each key and value, but the plain Python objects it
builds forget them. Every spec error must name file, line and field, so this module owns
a loader whose mappings are :class:`YamlMap` objects: ordinary dicts that also carry the
line of each key and each value. It is also the one place where ``yaml`` and ``OSError``
exceptions become :class:`~devkit.errors.SpecError` with the parser's own line.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from devkit.errors import SpecError


class YamlMap(dict[Any, Any]):
    """A YAML mapping that remembers the line (1-based) of itself, its keys and its values."""

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.value_lines: dict[Any, int] = {}
        # Values an override (``--set``) wrote, by key: errors about them name the flag.
        # Typed loosely: the Override class lives in devkit.spec.overrides.
        self.set_by: dict[Any, Any] = {}

    def key_line(self, key: Any) -> int:
        """Line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)

    def value_line(self, key: Any) -> int:
        """Line of the value under ``key``, or of the mapping itself when absent."""
        return self.value_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader building :class:`YamlMap` mappings and refusing duplicate keys.

    PyYAML silently keeps the last of two equal keys; in a spec that hides a mistake
    (two ``traffic:`` blocks, say), so a duplicate is an error at the second key's line.
    """


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    result = YamlMap(line=node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise ConstructorError(None, None, "found a mapping key that is not a plain value",
                                   key_node.start_mark)
        if key in result:
            raise ConstructorError(None, None, f"found the key {key!r} twice in one mapping",
                                   key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
        result.value_lines[key] = value_node.start_mark.line + 1
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[arg-type]


def read_yaml(path: Path, shown: str) -> Any:
    """Parse the single YAML document in ``path``; ``shown`` is how messages name the file.

    Returns ``None`` for an empty file. Unreadable files and malformed YAML raise
    :class:`SpecError` carrying the line the parser stopped at.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"the file cannot be read ({exc}); check that it exists and is "
                        "UTF-8 text", file=shown) from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"the YAML cannot be parsed ({problem}); fix the syntax on that "
                        "line", file=shown, line=line) from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"the YAML cannot be parsed ({exc}); fix the syntax of the file",
                        file=shown) from exc
