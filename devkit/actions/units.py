"""The values rollout and replay take, parsed once for the CLI and the TUI: durations
("30s", "500ms", "2m"), percentages ("1%" or a fraction "0.01") and step lists
("10,25,50,100"). Each raises :class:`~devkit.errors.RouterError` with an example."""

from __future__ import annotations

import re

from devkit.errors import RouterError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """Seconds, from ``30s``, ``500ms``, ``2m`` or a bare number of seconds."""
    found = _DURATION.match(text)
    if not found or float(found.group(1)) <= 0:
        raise RouterError(f"{text!r} is not a duration; write it like 30s, 500ms or 2m.")
    return float(found.group(1)) * _SCALE[found.group(2)]


def parse_percent(text: str) -> float:
    """A fraction in [0, 1], from ``1%`` or ``0.01``."""
    text = text.strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise RouterError(f"{text!r} is not a percentage; write it like 1% or 0.01.")
    return number


def parse_steps(text: str) -> tuple[int, ...]:
    """Increasing traffic percentages between 1 and 100, ``10,25,50,100``."""
    try:
        steps = tuple(int(part.strip().rstrip("%")) for part in text.split(","))
    except ValueError:
        steps = ()
    if not steps or list(steps) != sorted(set(steps)) or steps[0] < 1 or steps[-1] > 100:
        raise RouterError(f"{text!r} is not a list of increasing percentages between 1 and "
                          f"100; write it like 10,25,50,100.")
    return steps
