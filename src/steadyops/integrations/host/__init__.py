"""The local or remote host: disk, memory, load … and the 磁盘清理 action for logs."""

from __future__ import annotations

from steadyops.integrations.host.actions import CleanLogs
from steadyops.plugins import Registry


def register(registry: Registry) -> None:
    registry.add_action(CleanLogs)
