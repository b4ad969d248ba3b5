"""ZooKeeper: four-letter-word (and AdminServer) health checks, snapshots, and ``zk检测`` localisation.

Checks (target kind ``zookeeper``, address ``host:port``): ``zookeeper.port``, ``.ruok``,
``.whitelist``, ``.quorum``, ``.ensemble``, ``.outstanding``, ``.latency``, ``.znodes``,
``.watches``, ``.fds``, ``.disk``, ``.datafiles``. Collectors: ``zookeeper.mntr``, ``.conf``,
``.cons``. Target labels tune them: ``cluster`` (ensemble grouping), ``members``, ``admin_port``,
``local``, ``data_dir`` / ``data_log_dir``, ``ssh_credentials`` (measure a remote dataDir over
SSH), ``timeout`` and the thresholds named in each check.

``zk检测`` lives in :mod:`steadyops.integrations.zookeeper.diagnose` (``zk_inspect``, ``localise``,
``render``); it is not imported here so loading the plugin stays cheap. :mod:`.grammar` registers
the phrase, the report section, the ``磁盘清理`` action, the ``zk_localise`` agent tool and the
words ``zk`` / ``zoo``.
"""

from __future__ import annotations

from steadyops.contracts.memory import remembering
from steadyops.integrations.zookeeper import checks, ensemble, storage
from steadyops.integrations.zookeeper.base import ZkMemory
from steadyops.integrations.zookeeper.collectors import COLLECTORS
from steadyops.integrations.zookeeper.grammar import register_extras
from steadyops.integrations.zookeeper.storage import DirProbe, DirUsage
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "DirProbe", "DirUsage", "register"]

CHECKS = (*checks.CHECKS, *ensemble.CHECKS, *storage.CHECKS)


def register(registry: Registry) -> None:
    memory = ZkMemory()  # this registry's: the directories a server reported and SSH are never another App's
    registry.add_setup(memory.setup)
    for check in CHECKS:
        registry.add_check(remembering(check, memory))
    for collector in COLLECTORS:
        registry.add_collector(collector)
    from steadyops.integrations.zookeeper.actions import ZkPurge  # the action, registered like any plugin's

    registry.add_action(remembering(ZkPurge, memory))
    register_extras(registry)
