"""Click parameter types for the values rollout and replay take: durations ("30s",
"500ms", "2m"), percentages ("1%", "99.5%", or a fraction "0.01") and step lists
("10,25,50,100")."""

from __future__ import annotations

import re

import click

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class Duration(click.ParamType):
    """Seconds, from ``30s``, ``500ms``, ``2m`` or a bare number of seconds."""

    name = "duration"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        found = _DURATION.match(str(value))
        if not found or float(found.group(1)) <= 0:
            self.fail(f"{value!r} is not a duration; write it like 30s, 500ms or 2m.",
                      param, ctx)
        return float(found.group(1)) * _SCALE[found.group(2)]


class Percent(click.ParamType):
    """A fraction in [0, 1], from ``1%`` or ``0.01``."""

    name = "percent"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            number = -1.0
        if not 0 <= number <= 1:
            self.fail(f"{value!r} is not a percentage; write it like 1% or 0.01.", param, ctx)
        return number


class Steps(click.ParamType):
    """Increasing traffic percentages, ``10,25,50,100``."""

    name = "steps"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        try:
            steps = tuple(int(part.strip().rstrip("%")) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a list of percentages; write it like 10,25,50,100.",
                      param, ctx)
        if list(steps) != sorted(set(steps)) or steps[0] < 1 or steps[-1] > 100:
            self.fail(f"{value!r}: steps must increase, between 1 and 100.", param, ctx)
        return steps


DURATION, PERCENT, STEPS = Duration(), Percent(), Steps()
