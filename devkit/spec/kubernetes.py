"""``resources`` of a Kubernetes deployment (Azure's kubernetesOnlineDeployment schema).

``resources: {requests: {cpu, memory, nvidia.com/gpu}, limits: {...}}`` in Kubernetes
quantities. Locally they size the replica: the limit (or the request where no limit is
given) becomes the container's CPU/memory limit, in place of the instance type's SKU.
"""

from __future__ import annotations

from devkit.spec.fields import Section, type_name
from devkit.spec.model import ResourceAmounts, Resources
from devkit.spec.quantity import parse_quantity

_AMOUNT_KEYS = ("cpu", "memory", "nvidia.com/gpu")
_EXAMPLES = {"cpu": '"0.5" or "500m"', "memory": '"512Mi" or "2Gi"', "nvidia.com/gpu": "1"}


def read_resources(doc: Section) -> Resources | None:
    section = doc.section("resources", ("requests", "limits"))
    if section is None:
        return None
    requests = _amounts(section, "requests")
    limits = _amounts(section, "limits")
    for what, request, limit in (("cpu", requests.cpu, limits.cpu),
                                 ("memory", requests.memory, limits.memory)):
        if request is not None and limit is not None and request > limit:
            raise section.error("requests", f"the {what} request is above its limit; lower "
                                f"requests.{what} or raise limits.{what}", at_key=True)
    return Resources(requests=requests, limits=limits)


def _amounts(resources: Section, key: str) -> ResourceAmounts:
    block = resources.section(key, _AMOUNT_KEYS)
    if block is None:
        return ResourceAmounts()
    cpu = _quantity(block, "cpu")
    memory = _quantity(block, "memory")
    gpus = _quantity(block, "nvidia.com/gpu")
    if gpus is not None and gpus != int(gpus):
        raise block.error("nvidia.com/gpu", f"{gpus} is not a whole number of GPUs; write "
                          "a whole number such as 1")
    if memory is not None and memory < 1024**2:
        raise block.error("memory", "is below 1 MiB, which no server starts in; give a unit, "
                          'e.g. "512Mi" or "2Gi"')
    return ResourceAmounts(cpu=None if cpu is None else float(cpu),
                           memory=None if memory is None else int(memory),
                           gpus=None if gpus is None else int(gpus))


def _quantity(block: Section, key: str) -> float | None:
    value = block.raw(key)
    if value is None:
        return None
    amount = None if isinstance(value, bool) or not isinstance(value, (str, int, float)) \
        else parse_quantity(value)
    if amount is None or amount == 0:
        raise block.error(key, f"expected a positive Kubernetes quantity but found "
                          f"{type_name(value)}; write it like {_EXAMPLES[key]}")
    return float(amount)
