"""Promote: take a local endpoint to a cluster with the same traffic split.

What every target shares lives here, target by target below:

- :mod:`devkit.promote.targets`: the targets files and the :class:`Target` they name;
- :mod:`devkit.promote.release`: release images (environment + model + code layers, tagged
  by content hash, pushed to the target's registry, referenced by digest) and the
  :class:`Release` every target applies;
- :mod:`devkit.promote.plan`: what an apply would create, change or remove, and whether it
  fits the target's nodes (``ceil(1.2 x instance_count) x cores`` per SKU);
- :mod:`devkit.promote.swarm`: the Docker Swarm target;
- :mod:`devkit.promote.kubernetes`: the Kubernetes target.

A target is a place an endpoint runs, next to the local engines: it reads its state back
from the cluster (labels, never a local file), so any shell sees the truth.
"""
