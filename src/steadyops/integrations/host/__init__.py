"""The local or remote host: disk, inodes, memory, load, OOM, clock, fds, systemd, ports; 磁盘清理 for logs.

Checks (target kind ``host``): ``host.disk``, ``host.inodes``, ``host.readonly``, ``host.memory``,
``host.load``, ``host.oom``, ``host.clock``, ``host.fds``, ``host.process_fds``, ``host.systemd``,
``host.ports``. Collectors:
``host.facts``, ``host.top``. Action: ``host.clean_logs`` (what ``磁盘清理`` proposes on a host).

A target is inspected in-process when it is this machine and over SSH otherwise (see
:mod:`steadyops.execution.where` and :mod:`steadyops.execution.ssh` for the labels: ``transport``,
``ssh_user``, ``ssh_port``, ``known_hosts``). Thresholds are target labels named in each check.
Time-to-full reads this registry's history and remote hosts are reached with this App's SSH logins
(:class:`~steadyops.integrations.host.base.HostMemory`): set by the composition root's plugin setup,
an in-memory history and default logins before that.
"""

from __future__ import annotations

from steadyops.contracts.memory import remembering
from steadyops.integrations.host import checks, checks_fs, checks_mounts, checks_proc
from steadyops.integrations.host.actions import CleanLogs
from steadyops.integrations.host.base import HostMemory
from steadyops.integrations.host.collectors import COLLECTORS
from steadyops.integrations.host.service import for_registry as service_restart
from steadyops.integrations.host.trend import MemoryHistory, RecordedHistory
from steadyops.plugins import Cleanup, Registry

__all__ = ["CHECKS", "COLLECTORS", "HostMemory", "MemoryHistory", "RecordedHistory", "register"]

CHECKS = (*checks_fs.CHECKS, *checks_mounts.CHECKS, *checks.CHECKS, *checks_proc.CHECKS)


def register(registry: Registry) -> None:
    memory = HostMemory()  # this registry's: no history or SSH login is shared across Apps in one process
    registry.add_setup(memory.setup)
    registry.add_action(remembering(CleanLogs, memory))
    # bound: its health_check names this registry's checks, its shell logs in with this App's SSH
    registry.add_action(remembering(service_restart(registry), memory))
    for check in CHECKS:
        registry.add_check(remembering(check, memory))
    for collector in COLLECTORS:
        registry.add_collector(remembering(collector, memory))
    registry.add_kind_alias("host", "hosts", "主机", "服务器", "机器")
    # 磁盘清理 on a host: clean_logs, where the target's labels say which logs (log_paths: /a,/b)
    registry.add_cleanup(Cleanup(kind="host", action=CleanLogs.name, label_params={
        "log_paths": ("paths", "list"), "log_globs": ("globs", "list"),
        "log_older_than_days": ("older_than_days", "float"),
    }))
