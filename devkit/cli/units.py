"""Click parameter types over :mod:`devkit.actions.units` (durations, percentages, step
lists), so a bad value is a usage error naming the option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from devkit.actions.units import parse_duration, parse_percent, parse_steps
from devkit.errors import DevkitError


class _Parsed(click.ParamType):
    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default already converted
        try:
            return self._parse(value)
        except DevkitError as exc:
            self.fail(str(exc), param, ctx)


DURATION = _Parsed("duration", parse_duration)
PERCENT = _Parsed("percent", parse_percent)
STEPS = _Parsed("steps", parse_steps)
