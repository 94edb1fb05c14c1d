"""Endpoint and deployment specs: YAML in, typed and validated objects out.

The public surface other layers use (and nothing else from this package's private
modules):

* :func:`load` -- a folder, or an endpoint file followed by deployment files, into an
  :class:`~devkit.spec.model.Endpoint`; every mistake is a SpecError naming file, line
  and field.
* :func:`validate_traffic` / :func:`parse_traffic_args` -- the traffic rules, reused by
  ``devkit traffic`` and the TUI.
* :func:`spec_hash` -- a stable fingerprint of a deployment's spec for change detection.
"""

from devkit.spec.hashing import spec_hash
from devkit.spec.loader import load
from devkit.spec.traffic import format_weights, parse_traffic_args, validate_traffic

__all__ = ["format_weights", "load", "parse_traffic_args", "spec_hash", "validate_traffic"]
