"""Kubernetes resource quantities (``"0.1"``, ``"100m"``, ``"0.1Gi"``, ``"200Mi"``, ``"1e3"``).

The grammar is Kubernetes' ``resource.Quantity``: a decimal number, then an optional
binary suffix (Ki Mi Gi Ti Pi Ei), decimal suffix (n u m k M G T P E) or exponent.
Hand-written (twenty lines) rather than taken from the official ``kubernetes`` client's
``parse_quantity``: importing that client loads its whole generated API (seconds on a
cold start) for every spec load, and it is not otherwise needed by the spec layer.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: str | int | float) -> Decimal | None:
    """The quantity's value in base units (cores, bytes, devices); None when ``value`` is
    not a Kubernetes quantity or is negative."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if match is None:
        return None
    number, suffix = match.groups()
    try:
        amount = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    if suffix in _BINARY:
        amount *= Decimal(1024) ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        amount *= Decimal(10) ** _DECIMAL[suffix]
    elif suffix:  # an exponent, e.g. 1e3
        amount *= Decimal(10) ** int(suffix[1:])
    return amount if amount >= 0 else None
