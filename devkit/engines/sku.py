"""Azure ``instance_type`` SKUs mapped to the cores, memory and GPUs they really have.

Azure's own local endpoints ignore ``instance_type``; devkit applies the SKU's size as
container limits so a model that needs more memory than its SKU fails here, not in the
cloud. Limits are capped at what the host has (a laptop rarely has 16 cores), and the cap
is reported. An unknown SKU gets a warning and no limit rather than a guess. A Kubernetes
deployment's ``resources`` (limits, else requests) win over its instance type's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from devkit.spec.model import Resources

GIB = 1024**3


@dataclass(frozen=True)
class Sku:
    cores: int
    memory_gib: float
    gpus: int = 0
    gpu_model: str | None = None


# Published sizes of the Azure VM SKUs most used for managed online endpoints.
SKUS: dict[str, Sku] = {
    "Standard_DS1_v2": Sku(1, 3.5),
    "Standard_DS2_v2": Sku(2, 7),
    "Standard_DS3_v2": Sku(4, 14),
    "Standard_DS4_v2": Sku(8, 28),
    "Standard_DS5_v2": Sku(16, 56),
    "Standard_D2as_v4": Sku(2, 8),
    "Standard_D4as_v4": Sku(4, 16),
    "Standard_D8as_v4": Sku(8, 32),
    "Standard_D16as_v4": Sku(16, 64),
    "Standard_D2s_v3": Sku(2, 8),
    "Standard_D4s_v3": Sku(4, 16),
    "Standard_D8s_v3": Sku(8, 32),
    "Standard_F2s_v2": Sku(2, 4),
    "Standard_F4s_v2": Sku(4, 8),
    "Standard_F8s_v2": Sku(8, 16),
    "Standard_F16s_v2": Sku(16, 32),
    "Standard_F32s_v2": Sku(32, 64),
    "Standard_F48s_v2": Sku(48, 96),
    "Standard_F64s_v2": Sku(64, 128),
    "Standard_F72s_v2": Sku(72, 144),
    "Standard_E2s_v3": Sku(2, 16),
    "Standard_E4s_v3": Sku(4, 32),
    "Standard_E8s_v3": Sku(8, 64),
    "Standard_E16s_v3": Sku(16, 128),
    "Standard_E32s_v3": Sku(32, 256),
    "Standard_E48s_v3": Sku(48, 384),
    "Standard_E64s_v3": Sku(64, 432),
    "Standard_NC6s_v3": Sku(6, 112, 1, "V100"),
    "Standard_NC12s_v3": Sku(12, 224, 2, "V100"),
    "Standard_NC24s_v3": Sku(24, 448, 4, "V100"),
    "Standard_NC4as_T4_v3": Sku(4, 28, 1, "T4"),
    "Standard_NC8as_T4_v3": Sku(8, 56, 1, "T4"),
    "Standard_NC16as_T4_v3": Sku(16, 110, 1, "T4"),
    "Standard_NC64as_T4_v3": Sku(64, 440, 4, "T4"),
    "Standard_NC24ads_A100_v4": Sku(24, 220, 1, "A100"),
    "Standard_NC48ads_A100_v4": Sku(48, 440, 2, "A100"),
    "Standard_NC96ads_A100_v4": Sku(96, 880, 4, "A100"),
    "Standard_ND96asr_v4": Sku(96, 900, 8, "A100"),
    "Standard_ND96amsr_A100_v4": Sku(96, 1900, 8, "A100"),
}

_BY_LOWER = {name.lower(): sku for name, sku in SKUS.items()}


@dataclass(frozen=True)
class Limits:
    """What a replica gets: ``None`` means unlimited. ``notes`` say why it differs from
    the SKU (capped to the host, unknown SKU)."""

    nano_cpus: int | None
    memory_bytes: int | None
    gpus: int
    notes: tuple[str, ...] = ()

    @property
    def cpus(self) -> float | None:
        return None if self.nano_cpus is None else self.nano_cpus / 1e9


def lookup(instance_type: str) -> Sku | None:
    """The SKU by name, case-insensitively (Azure accepts either case)."""
    return _BY_LOWER.get(instance_type.lower())


def limits_for(instance_type: str, host_cpus: int, host_memory: int,
               force_gpu: bool = False, resources: Resources | None = None) -> Limits:
    """Container limits for one replica of ``instance_type`` (or of ``resources``, a
    Kubernetes deployment's) on a host of this size."""
    if resources is not None and (resources.cpu_limit or resources.memory_limit):
        return _resource_limits(resources, host_cpus, host_memory, force_gpu)
    sku = lookup(instance_type)
    if sku is None:
        note = (f"instance_type '{instance_type}' is not in devkit's SKU table; "
                "running without CPU/memory limits")
        return Limits(None, None, 1 if force_gpu else 0, (note,))
    notes: list[str] = []
    cores = float(sku.cores)
    memory = int(sku.memory_gib * GIB)
    if cores > host_cpus:
        notes.append(f"{instance_type} has {sku.cores} cores; capped at the host's {host_cpus}")
        cores = float(host_cpus)
    if memory > host_memory:
        notes.append(f"{instance_type} has {sku.memory_gib:g} GiB; capped at the host's "
                     f"{host_memory / GIB:.1f} GiB")
        memory = host_memory
    gpus = max(sku.gpus, 1 if force_gpu else 0)
    return Limits(int(cores * 1e9), memory, gpus, tuple(notes))


def _resource_limits(resources: Resources, host_cpus: int, host_memory: int,
                     force_gpu: bool) -> Limits:
    notes: list[str] = []
    cores, memory = resources.cpu_limit, resources.memory_limit
    if cores is not None and cores > host_cpus:
        notes.append(f"resources ask for {cores:g} CPUs; capped at the host's {host_cpus}")
        cores = float(host_cpus)
    if memory is not None and memory > host_memory:
        notes.append(f"resources ask for {memory / GIB:.1f} GiB; capped at the host's "
                     f"{host_memory / GIB:.1f} GiB")
        memory = host_memory
    gpus = max(resources.gpus, 1 if force_gpu else 0)
    return Limits(None if cores is None else int(cores * 1e9), memory, gpus, tuple(notes))
