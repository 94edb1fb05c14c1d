"""Endpoint and deployment specs: YAML in, typed and validated objects out.

The public surface other layers use (and nothing else from this package's private
modules):

* :func:`load` -- a folder, or an endpoint file followed by deployment files (or
  deployment files alone with ``endpoint_name``), with ``--set`` overrides, into an
  :class:`~devkit.spec.model.Endpoint`; every mistake is a SpecError naming file, line
  and field, or the ``--set`` that wrote the value.
* :func:`plan` / :func:`load_recipe` / :class:`Recipe` -- the same in two steps, with the
  recipe (files + overrides + name) kept so a spec can be rebuilt or extended later.
* :func:`validate_traffic` / :func:`parse_traffic_args` -- the traffic rules, reused by
  ``devkit traffic`` and the TUI.
* :func:`spec_hash` -- a stable fingerprint of a deployment's spec for change detection.
"""

from devkit.spec.hashing import spec_hash
from devkit.spec.loader import endpoint_of, load, load_recipe, plan
from devkit.spec.recipe import Recipe, SpecFile
from devkit.spec.traffic import format_weights, parse_traffic_args, validate_traffic

__all__ = ["Recipe", "SpecFile", "endpoint_of", "format_weights", "load", "load_recipe",
           "parse_traffic_args", "plan", "spec_hash", "validate_traffic"]
