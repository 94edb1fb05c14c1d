"""The router's shadow-diff settings, read from the endpoint's ``tags``.

Where the tolerance lives, and why there: ``tags`` is a free-form mapping Azure accepts on
every endpoint, so ``endpoint.yml`` still deploys to Azure unchanged (an unknown top-level
field would be refused there, and devkit refuses it too). The tags, all optional:

    devkit.shadow.atol     absolute tolerance for JSON numbers (default 1e-9)
    devkit.shadow.rtol     relative tolerance (default 1e-6); numbers agree when
                           |live - shadow| <= atol + rtol * |live|
    devkit.shadow.ignore   comma-separated JSON paths that never count
                           ("$.generated_at, $.rows[*].id")
    devkit.shadow.compare  "false" mirrors without comparing

They become the ``shadow`` section of the router config
(:mod:`devkit_runtime.router.config`); an endpoint without them gets no section, so its
config stays byte for byte what it was.
"""

from __future__ import annotations

from typing import Any

from devkit.errors import SpecError
from devkit.spec.model import EndpointSpec

PREFIX = "devkit.shadow."
_FLOATS = ("atol", "rtol")


def shadow_section(spec: EndpointSpec) -> dict[str, Any]:
    """The router config's ``shadow`` section from ``spec.tags`` ({} when none is set)."""
    section: dict[str, Any] = {}
    for key, value in spec.tags.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        section[name] = _value(spec, key, name, str(value).strip())
    return section


def _value(spec: EndpointSpec, key: str, name: str, text: str) -> Any:
    if name in _FLOATS:
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if not number >= 0:
            raise _bad(spec, key, f"must be a number >= 0, got {text!r}",
                       f"for example {key}: \"1e-6\"")
        return number
    if name == "ignore":
        paths = [p.strip() for p in text.split(",") if p.strip()]
        wrong = [p for p in paths if not p.startswith("$")]
        if wrong:
            raise _bad(spec, key, f"paths must start with '$', got {wrong}",
                       f"for example {key}: \"$.generated_at, $.rows[*].id\"")
        return paths
    if name == "compare":
        if text.lower() not in ("true", "false"):
            raise _bad(spec, key, f"must be 'true' or 'false', got {text!r}",
                       f"write {key}: \"false\" to mirror without comparing")
        return text.lower() == "true"
    raise _bad(spec, key, "is not a shadow setting",
               f"use one of {', '.join(PREFIX + n for n in ('atol', 'rtol', 'ignore', 'compare'))}")


def _bad(spec: EndpointSpec, key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"{problem}; {fix}.", file=str(spec.source.file), line=spec.source.line,
                     field=f"tags.{key}")
