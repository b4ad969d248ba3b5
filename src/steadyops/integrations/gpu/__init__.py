"""GPU nodes: Xid errors, ECC and retired/remapped rows, temperature and throttling, power, memory,
a GPU fallen off the bus, NVLink errors, a hung GPU, driver/CUDA drift across a node group.

Targets have kind ``gpu``; the label ``source`` picks where facts come from (``nvidia-smi`` locally
or over SSH through the host integration's access layer, ``nvml``, ``dcgm``, ``prometheus``; see
:mod:`.source`). Checks: ``gpu.xid``, ``.ecc``, ``.thermal``, ``.power``, ``.memory``, ``.hung``,
``.bus``, ``.nvlink``, ``.driver``. Collectors: ``gpu.state``, ``gpu.xid_log``.
"""

from __future__ import annotations

from steadyops.contracts.memory import remembering
from steadyops.integrations.gpu import checks_health, checks_node
from steadyops.integrations.gpu.collectors import COLLECTORS
from steadyops.integrations.gpu.source import GpuMemory
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]

CHECKS = (*checks_node.CHECKS, *checks_health.CHECKS)


def register(registry: Registry) -> None:
    registry.add_kind_alias("gpu", "显卡", examples=("GPU巡检",))
    memory = GpuMemory()  # this registry's: shared reads, "hung at the last check" and SSH are never another App's
    registry.add_setup(memory.setup)
    for check in CHECKS:
        registry.add_check(remembering(check, memory))
    for collector in COLLECTORS:
        registry.add_collector(remembering(collector, memory))
    from steadyops.integrations.gpu.actions import DrainGpu

    registry.add_action(DrainGpu)
