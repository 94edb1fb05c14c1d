"""The ``data_collector`` block of a deployment (CONTRACT.md §7), checked like any field.

Azure's schema::

    data_collector:
      sampling_rate: 1.0              # 0..1, the share of requests kept
      rolling_rate: Hour              # Minute | Hour | Day | Month | Year
      collections:
        model_inputs: {enabled: 'True'}
        model_outputs: {enabled: 'True', data: {name: ..., path: ..., version: ...}}
        request: {enabled: 'True'}     # payload logging, done by the front end
        response: {enabled: 'True'}
      request_logging: {capture_headers: [...]}

``enabled`` is a string ('True'/'False') in Azure's examples and a boolean in others; both
are read. ``data`` (the cloud data asset the collection lands in) and ``client_id`` are
accepted and have no local meaning: files land in the data dir. The result is a plain,
normalised mapping kept on the DeploymentSpec: the enabled collection names, the rate
and the rolling rate.
"""

from __future__ import annotations

from typing import Any

from devkit.spec.fields import Section, type_name

ROLLING_RATES = ("Minute", "Hour", "Day", "Month", "Year")
_KEYS = {"collections", "sampling_rate", "rolling_rate", "request_logging", "destination"}
_COLLECTION_KEYS = {"enabled", "data", "client_id"}
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def read_data_collector(doc: Section) -> dict[str, Any] | None:
    """The normalised ``data_collector`` of ``doc``, or None when it has none."""
    section = doc.section("data_collector", _KEYS)
    if section is None:
        return None
    return {"collections": _collections(section), "sampling_rate": _rate(section),
            "rolling_rate": _rolling(section)}


def _collections(section: Section) -> list[str]:
    collections = section.section("collections", allowed=None, required=True,
                                  example="collections: {model_inputs: {enabled: 'True'}}")
    assert collections is not None
    enabled = []
    for name in collections.data:
        entry = collections.section(str(name), _COLLECTION_KEYS)
        if entry is None or _enabled(entry):
            enabled.append(str(name))
    return sorted(enabled)


def _enabled(entry: Section) -> bool:
    value = entry.raw("enabled")
    if value is None or isinstance(value, bool):
        return value is not False  # a listed collection is on unless switched off
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise entry.error("enabled", f"expected 'True' or 'False' but found {type_name(value)}; "
                      "write enabled: 'True'")


def _rate(section: Section) -> float:
    value = section.raw("sampling_rate")
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise section.error("sampling_rate", f"must be a number from 0 to 1 but is "
                            f"{type_name(value)}; write e.g. sampling_rate: 0.1")
    return float(value)


def _rolling(section: Section) -> str:
    value = section.text("rolling_rate")
    if value is None:
        return "Hour"
    for rate in ROLLING_RATES:
        if value.lower() == rate.lower():
            return rate
    raise section.error("rolling_rate", f"'{value}' is not one of {', '.join(ROLLING_RATES)}; "
                        "use one of those")
