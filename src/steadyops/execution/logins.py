"""One App's SSH: its settings and its pooled logins, made by the composition root.

``build_app`` makes one :class:`Logins` with steadyops' own known_hosts under the App's data dir and
offers it to the plugins at setup (``PluginContext.ssh``); everything that reaches a remote host —
inspection (:func:`~.where.host_for`) and the shells of actions (:func:`~.shell.shell_for`) — is
given it, and ``App.shutdown`` closes its connections. Two Apps in one process never share a
known_hosts file or a pooled login. A plugin class used outside an App starts with a fresh one
(settings by default: ``$STEADYOPS_DATA_DIR/ssh``, else ``data/ssh``).

Nothing here imports asyncssh (the extra ``ssh``): :mod:`.ssh` does, when a remote target is asked.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

__all__ = ["Logins", "SshSettings"]


@dataclass(frozen=True)
class SshSettings:
    """How one App logs in: where its own known_hosts lives (accept-new records there), the pool, timeouts."""

    known_hosts_dir: Path = field(default_factory=lambda: Path(os.environ.get("STEADYOPS_DATA_DIR", "data")) / "ssh")
    pool_size: int = 2
    idle_seconds: float = 300.0
    connect_timeout: float = 5.0
    command_timeout: float = 8.0

    @property
    def own_known_hosts(self) -> Path:
        return self.known_hosts_dir / "known_hosts"


class _Pool(Protocol):
    async def close(self) -> None: ...


class Logins:
    """One App's SSH settings and its connection pools, one per event loop (a loop's sockets serve no other)."""

    def __init__(self, settings: SshSettings | None = None) -> None:
        self.settings = settings or SshSettings()
        #: filled by :mod:`.ssh` (its ``_Pool``) the first time a remote target is asked on a loop
        self.pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pool] = weakref.WeakKeyDictionary()

    async def close(self) -> None:
        """Close the pooled connections of the running event loop (shutdown, and test teardown)."""
        pool = self.pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

