"""Where a ZooKeeper keeps its data when it cannot be asked: its config file, found from its process.

Why: the moment dataDir matters most — a disk gone read-only, a txn log that cannot be written —
is exactly when ``conf`` gets no answer (the JVM is hung or has exited). So the directories are
found, in order, from:

1. ``conf`` (the server itself; done by :func:`~.storage.data_dirs`);
2. the labels ``data_dir`` / ``data_log_dir``;
3. the label ``config_file`` (a ``zoo.cfg`` on this host);
4. the process: a local ``java`` whose command line runs ZooKeeper with a config file whose
   ``clientPort`` is the target's port (a SIGSTOPped or wedged JVM still has its command line);
5. the last directories this target reported (remembered from earlier answers in this registry's
   :class:`KnownDirs`), so a server that already exited is still judged on its own disk.

Steps 3–4 read only this machine: a remote target's process is not visible from here.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil

from steadyops.core.inventory import Target
from steadyops.integrations.zookeeper.parse import parse_conf

__all__ = ["KnownDirs", "dirs_from_config", "find_config_file"]

_MAIN_CLASSES = ("org.apache.zookeeper.server.quorum.QuorumPeerMain", "org.apache.zookeeper.server.ZooKeeperServerMain")
class KnownDirs:
    """The directories each target reported last (one registry's: the storage checks' ``memory``),
    keyed by (target name, address) so a target moved to another server never inherits the old
    one's directories."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], dict[str, str]] = {}

    def remember(self, target: Target, dirs: dict[str, str]) -> None:
        """Keep what the server said last, for the time it can no longer say it."""
        if dirs:
            self._known[(target.name, target.address)] = dict(dirs)

    def last_known(self, target: Target) -> dict[str, str]:
        return dict(self._known.get((target.name, target.address), {}))


def dirs_from_config(path: str | Path) -> dict[str, str]:
    """``{"dataDir": …, "dataLogDir": …}`` from a ``zoo.cfg`` (dataLogDir defaults to dataDir); {} if unreadable."""
    try:
        values = parse_conf(Path(path).read_text(encoding="utf-8", errors="replace")).values
    except OSError:
        return {}
    dirs = {k: values[k] for k in ("dataDir", "dataLogDir") if values.get(k)}
    if "dataDir" in dirs:
        dirs.setdefault("dataLogDir", dirs["dataDir"])
    return dirs


def _config_arg(cmdline: list[str]) -> str | None:
    """The config file argument after ZooKeeper's main class (``… QuorumPeerMain /etc/zk/zoo.cfg``)."""
    for i, arg in enumerate(cmdline):
        if arg in _MAIN_CLASSES and i + 1 < len(cmdline):
            return cmdline[i + 1]
    return None


def _client_port(path: str) -> int | None:
    try:
        values = parse_conf(Path(path).read_text(encoding="utf-8", errors="replace")).values
    except OSError:
        return None
    raw = values.get("clientPort") or values.get("secureClientPort") or ""
    return int(raw) if raw.isdigit() else None


def find_config_file(port: int) -> str | None:
    """The config file of the local ZooKeeper process serving ``port``, or None."""
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        with contextlib.suppress(psutil.Error, OSError):
            cmdline = proc.info.get("cmdline") or []
            arg = _config_arg(cmdline)
            if not arg:
                continue
            path = arg if arg.startswith("/") else str(Path(proc.info.get("cwd") or "/") / arg)
            if _client_port(path) == port:
                return path
    return None
