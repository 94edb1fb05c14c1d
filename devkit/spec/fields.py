"""Typed readers for the fields of one YAML mapping, each failure a precise SpecError.

A :class:`Section` wraps one :class:`~devkit.spec.yamlsource.YamlMap` together with the
file it came from and its dotted position in the spec (``request_settings``,
``environment.build``...). Every reader checks the type and range of one field and, when
the value is wrong, raises :class:`SpecError` pointing at the value's line; a missing
required field points at the mapping; an unknown key points at the key and suggests the
closest known one. Keeping all of that here lets the spec readers stay declarative.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from devkit.errors import SpecError, UnresolvableReference
from devkit.spec.yamlsource import YamlMap

NAME_PATTERN = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$")
NAME_LENGTH = (3, 32)
_REMOTE_PREFIXES = ("http://", "https://", "wasbs://", "abfss://", "adl://", "s3://", "gs://")


def did_you_mean(word: str, options: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def camel_to_snake(text: str) -> str:
    """``AMLToken`` -> ``aml_token``, ``TargetUtilization`` -> ``target_utilization``.

    The transform azure-ai-ml's ``StringTransformedEnum`` applies to enum values before
    comparing them, so devkit accepts exactly the spellings Azure accepts.
    """
    step = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", text)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", step).lower()


def enum_value(value: str, options: Collection[str]) -> str | None:
    """The option ``value`` means, compared as Azure does (lower-cased, or camel case
    turned into snake case); None when it is none of them."""
    wanted = {value.lower(), camel_to_snake(value)}
    for option in options:
        if option.lower() in wanted or camel_to_snake(option) in wanted:
            return option
    return None


def type_name(value: Any) -> str:
    """How a YAML value's type reads in a message: 'the string "5000"', 'a mapping'."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def name_problem(name: str) -> str | None:
    """Why ``name`` breaks Azure's endpoint/deployment naming rule, or None when it is fine."""
    low, high = NAME_LENGTH
    if NAME_PATTERN.match(name) and low <= len(name) <= high:
        return None
    return (f"'{name}' is not a valid name; use {low} to {high} letters, digits and hyphens, "
            "starting with a letter and ending with a letter or digit")


@dataclass(frozen=True)
class Section:
    """One mapping of a spec file, with enough context to point at any of its fields."""

    data: YamlMap
    file: Path  # absolute: relative paths in this file resolve against its folder
    shown: str  # the file as messages name it
    prefix: str = ""  # dotted path of this mapping inside the document ("" at the root)
    # Line of the key that introduces this mapping (``code_configuration:``); what is
    # missing from a mapping is reported there. None at the root: the mapping's own line.
    anchor: int | None = None

    @property
    def line(self) -> int:
        return self.anchor if self.anchor is not None else self.data.line

    # -- locating ---------------------------------------------------------------------

    def field(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str | None, message: str, *, at_key: bool = False,
              cls: type[SpecError] = SpecError) -> SpecError:
        """A SpecError about ``key`` (its value's line, or the key's with ``at_key``)."""
        if key is None:
            return cls(message, file=self.shown, line=self.line, field=self.prefix or None)
        override = self.data.set_by.get(key)
        if override is not None:  # the value came from a flag, not from a line of the file
            return cls(message, file=f"{self.shown} ({override.flag})", field=self.field(key))
        line = self.data.key_line(key) if at_key else self.data.value_line(key)
        return cls(message, file=self.shown, line=line, field=self.field(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def check_keys(self, allowed: Collection[str]) -> None:
        """Refuse keys outside ``allowed``: a typo must never be silently ignored."""
        for key in self.data:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                raise self.error(str(key), f"this field is unknown here{hint}; fix its spelling "
                                 "or remove it", at_key=True)

    # -- scalar readers -----------------------------------------------------------------

    def raw(self, key: str, *, required: bool = False, example: str = "") -> Any:
        """The value under ``key`` (None when absent); a missing required key is an error."""
        if key not in self.data or self.data[key] is None:
            if required:
                where = f" to {self.prefix}" if self.prefix else ""
                add = example or f"{key}: ..."
                raise SpecError(f"this required field is missing; add `{add}`{where}",
                                file=self.shown, line=self.line, field=self.field(key))
            return None
        return self.data[key]

    def text(self, key: str, *, required: bool = False, example: str = "") -> str | None:
        """A string field. Numbers are refused: ``version: 1`` is read by :meth:`label`."""
        value = self.raw(key, required=required, example=example)
        if value is None or isinstance(value, str):
            return value
        override = self.data.set_by.get(key)
        if override is not None and not isinstance(value, (Mapping, list)):
            return str(override.text)  # `--set name=007`: the characters as typed
        raise self.error(key, f"expected a string but found {type_name(value)}; "
                         "put the value in quotes")

    def label(self, key: str) -> str | None:
        """A string that YAML may have read as a number (``version: 1``)."""
        value = self.raw(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return self.text(key)

    def integer(self, key: str, default: int, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        """A whole number within [minimum, maximum]; booleans and quoted numbers are refused."""
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected a whole number but found {type_name(value)}; "
                             "write a number without quotes, e.g. "
                             f"`{key}: {default}`")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum} but is {value}; raise it to "
                             f"{minimum} or more")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum} but is {value}; lower it to "
                             f"{maximum} or less")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false but found {type_name(value)}; "
                             "write true or false without quotes")
        return value

    def choice(self, key: str, options: Collection[str], default: str) -> str:
        """A string from a fixed set (an enum in the Azure schema), returned in the
        spelling of ``options``. Azure's schema compares enum values after a casing
        transform, so ``Key``, ``KEY``, ``AMLToken`` and ``aml_token`` are all accepted
        (see :func:`enum_value`)."""
        value = self.label(key)
        if value is None:
            return default
        found = enum_value(value, options)
        if found is None:
            listed = ", ".join(options)
            hint = did_you_mean(value, options)
            raise self.error(key, f"'{value}' is not one of {listed}{hint}; use one of those")
        return found

    def name(self, key: str, *, required: bool = True, example: str = "") -> str:
        value = self.text(key, required=required, example=example)
        assert value is not None  # required
        problem = name_problem(value)
        if problem:
            raise self.error(key, problem)
        return value

    # -- structured readers -------------------------------------------------------------

    def section(self, key: str, allowed: Collection[str] | None, *,
                required: bool = False, example: str = "") -> Section | None:
        """The mapping under ``key`` as a Section; its keys are checked against ``allowed``
        (None: a free-form mapping such as ``tags``)."""
        value = self.raw(key, required=required, example=example)
        if value is None:
            return None
        if not isinstance(value, YamlMap):
            raise self.error(key, f"expected a mapping but found {type_name(value)}; "
                             "write its fields indented on the lines below")
        child = Section(value, self.file, self.shown, self.field(key),
                        anchor=self.data.key_line(key))
        if allowed is not None:
            child.check_keys(allowed)
        return child

    def string_map(self, key: str) -> Mapping[str, str]:
        """``tags`` / ``environment_variables``: string keys to string (or number) values."""
        section = self.section(key, allowed=None)
        if section is None:
            return MappingProxyType({})
        result: dict[str, str] = {}
        for item, value in section.data.items():
            if not isinstance(item, str):
                raise section.error(str(item), "keys must be strings; put the key in quotes",
                                    at_key=True)
            override = section.data.set_by.get(item)
            if override is not None and not isinstance(value, (Mapping, list)):
                value = override.text  # `--set environment_variables.X=yes`: as typed
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise section.error(item, f"expected a string but found {type_name(value)}; "
                                    "put the value in quotes")
            result[item] = str(value)
        return MappingProxyType(result)

    def plain(self, key: str) -> Any:
        """The value with YamlMap turned into plain dicts, for free-form blocks."""
        return _plain(self.raw(key))

    # -- references and paths -----------------------------------------------------------

    def refuse_reference(self, key: str, value: str, fix: str) -> None:
        """Raise UnresolvableReference for ``azureml:`` and remote URIs devkit cannot fetch."""
        if value.startswith("azureml:"):
            raise self.error(key, f"'{value}' refers to the Azure ML registry, which devkit "
                             f"cannot reach offline; {fix} instead", cls=UnresolvableReference)
        if value.lower().startswith(_REMOTE_PREFIXES):
            raise self.error(key, f"'{value}' is a remote location devkit does not download; "
                             f"{fix} instead", cls=UnresolvableReference)

    def local_path(self, key: str, kind: Literal["dir", "file", "any"], *, fix: str,
                   base: Path | None = None, required: bool = True,
                   example: str = "") -> Path | None:
        """An existing local path, relative to this YAML file's folder (or to ``base``)."""
        value = self.text(key, required=required, example=example)
        if value is None:
            return None
        self.refuse_reference(key, value, fix)
        root = base if base is not None else self.file.parent
        path = (root / Path(value).expanduser()).resolve()
        relative_to = "this YAML file" if base is None else str(base)
        if not path.exists():
            raise self.error(key, f"'{value}' does not exist (looked for {path}); fix the "
                             f"path, which is relative to {relative_to}")
        if kind == "dir" and not path.is_dir():
            raise self.error(key, f"'{value}' is a file but a folder is expected; point it "
                             "at the folder that holds it")
        if kind == "file" and not path.is_file():
            raise self.error(key, f"'{value}' is a folder but a file is expected; point it "
                             "at the file itself")
        return path


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
