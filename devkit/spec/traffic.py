"""The traffic rules of an endpoint, shared by the spec loader, ``devkit traffic`` and the TUI.

Live weights are whole numbers 0..100 that sum to 0 (no live traffic) or 100 and name only
existing deployments. Mirror traffic copies a share (0 < pct <= 50) of live requests to a
single deployment whose own live weight is 0, as in Azure's managed front end. The rules
are pure functions; where an error points depends on the caller, so the internal checker
takes a *locator* that turns ``("traffic", "blue")`` into a file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from devkit.errors import SpecError
from devkit.spec.fields import did_you_mean, type_name
from devkit.spec.model import Source

# (block, key) -> (file, line): block is "traffic" or "mirror_traffic", key a deployment
# name or None for the block itself.
Locator = Callable[[str, "str | None"], "tuple[str | None, int | None]"]

MAX_MIRROR_PERCENT = 50


def validate_traffic(deployments: Iterable[str], traffic: Mapping[str, int],
                     mirror: Mapping[str, int], *, source: Source | None = None) -> None:
    """Raise SpecError unless ``traffic``/``mirror`` are valid for these deployments.

    ``source`` (the endpoint spec's file and line) is named in the error when given.
    """

    def locate(block: str, key: str | None) -> tuple[str | None, int | None]:
        if source is None:
            return None, None
        return str(source.file), source.line

    check_traffic(list(deployments), traffic, mirror, locate)


def check_traffic(deployments: Sequence[str], traffic: Mapping[Any, Any],
                  mirror: Mapping[Any, Any], locate: Locator) -> None:
    """The rules behind :func:`validate_traffic`, with errors placed by ``locate``."""
    _check_weights("traffic", deployments, traffic, locate, low=0, high=100)
    total = sum(value for value in traffic.values() if isinstance(value, int))
    if total not in (0, 100):
        raise _error(locate, "traffic", None, f"live weights sum to {total} but must sum to "
                     "100 (or 0 for no live traffic); adjust the percentages")
    _check_weights("mirror_traffic", deployments, mirror, locate, low=1,
                   high=MAX_MIRROR_PERCENT)
    if len(mirror) > 1:
        raise _error(locate, "mirror_traffic", None, f"mirror traffic names {len(mirror)} "
                     "deployments but can copy requests to only one; keep a single entry")
    for name in mirror:
        if traffic.get(name, 0) != 0:
            raise _error(locate, "mirror_traffic", str(name), f"deployment '{name}' receives "
                         f"{traffic[name]}% live traffic, and only a deployment with 0% live "
                         "traffic can be mirrored to; set its live weight to 0 or mirror to "
                         "another deployment")


def _check_weights(block: str, deployments: Sequence[str], weights: Mapping[Any, Any],
                   locate: Locator, *, low: int, high: int) -> None:
    for name, value in weights.items():
        key = str(name)
        if key not in deployments:
            known = ", ".join(deployments) or "none"
            raise _error(locate, block, key, f"no deployment is named '{key}'"
                         f"{did_you_mean(key, deployments)} (deployments: {known}); use the "
                         "name of an existing deployment")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _error(locate, block, key, f"expected a whole-number percentage but found "
                         f"{type_name(value)}; write a number from {low} to {high}")
        if not low <= value <= high:
            raise _error(locate, block, key, f"{value} is outside {low}..{high}; use a "
                         f"percentage from {low} to {high}")


def _error(locate: Locator, block: str, key: str | None, message: str) -> SpecError:
    file, line = locate(block, key)
    field = f"{block}.{key}" if key is not None else block
    return SpecError(message, file=file, line=line, field=field)


def parse_traffic_args(args: Iterable[str], *, what: str = "traffic") -> dict[str, int]:
    """``["blue=90", "green=10"]`` -> ``{"blue": 90, "green": 10}`` (syntax only: the rules
    are :func:`validate_traffic`'s job). ``what`` names the option in messages."""
    result: dict[str, int] = {}
    for arg in args:
        name, sep, number = arg.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name or not number:
            raise SpecError(f"{what} argument '{arg}' is not NAME=PERCENT; write it like "
                            "blue=90")
        try:
            percent = int(number)
        except ValueError:
            raise SpecError(f"{what} argument '{arg}' has '{number}' where a whole-number "
                            f"percentage belongs; write it like {name}=90") from None
        if name in result:
            raise SpecError(f"{what} names deployment '{name}' twice; give each deployment "
                            "one weight")
        result[name] = percent
    return result


def format_weights(traffic: Mapping[str, int], mirror: Mapping[str, int]) -> str:
    """``blue=90 green=10  mirror green=20``: the one way weights are written out (CLI,
    TUI and ``up``'s progress lines)."""
    text = " ".join(f"{name}={weight}" for name, weight in traffic.items()) or "no weights"
    if mirror:
        text += "  mirror " + " ".join(f"{name}={pct}" for name, pct in mirror.items())
    return text
