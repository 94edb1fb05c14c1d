"""How many replicas of a deployment this machine can hold: its cores and memory over
one replica's size (the SKU's, or a Kubernetes deployment's ``resources``, as
:func:`devkit.engines.sku.limits_for` applies them). A deployment with no known size
(an unknown SKU runs without limits) has no cap. The count is per deployment: other
deployments and endpoints on the machine are not subtracted (they may be idle)."""

from __future__ import annotations

from devkit.engines.sku import GIB, limits_for
from devkit.spec.model import DeploymentSpec


def machine_cap(spec: DeploymentSpec, host_cpus: int, host_memory: int) -> tuple[int | None, str]:
    """(replicas that fit, a phrase saying why) or (None, "") when nothing limits it."""
    limits = limits_for(spec.instance_type, host_cpus, host_memory, resources=spec.resources)
    fits: list[int] = []
    size: list[str] = []
    if limits.cpus:
        fits.append(int(host_cpus / limits.cpus + 1e-9))
        size.append(f"{limits.cpus:g} core(s)")
    if limits.memory_bytes and host_memory:
        fits.append(host_memory // limits.memory_bytes)
        size.append(f"{limits.memory_bytes / GIB:.1f} GiB")
    if not fits:
        return None, ""
    what = spec.instance_type if spec.resources is None else "its resources"
    note = (f"{host_cpus} cores and {host_memory / GIB:.1f} GiB here; one replica of {what} "
            f"takes {' and '.join(size)}")
    return max(1, min(fits)), note
