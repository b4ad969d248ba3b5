"""Remote hosts over SSH (asyncssh, extra ``ssh``): key auth, the known-hosts policy, a connection pool, ``SshHost``.

The one login and trust policy of steadyops: read-only inspection (:class:`SshHost`) and remediation
(``SshShell`` in :mod:`.shell`) both log in through :func:`open_connection`, so a changed or unknown host
key is refused the same way for both.


A target is reached as ``ssh_user`` (label, default ``root``) at its address (``host:port``, else
label ``ssh_port``, else 22), logging in with the private key its ``credentials`` reference names
(``file:/path`` or ``env:NAME`` holding the key text). Nothing else is tried: no agent, no
``~/.ssh/config``, no password — an inspection must behave the same from every steadyops worker.

The host key is always checked, by the target's ``known_hosts`` label:

* a path — only keys recorded there are trusted (OpenSSH ``StrictHostKeyChecking yes``);
* ``accept-new`` — trust on first use: the key of a host not yet recorded is accepted and written to
  steadyops' own known_hosts file (the App's, under its data dir: :mod:`.logins`), after which a
  *changed* key is refused;
* ``insecure-ignore`` — no check at all, only because someone wrote that down for this target;
* no label — keys from steadyops' own file and ``~/.ssh/known_hosts``, strictly.

A refused key is never read as "host healthy": a mismatch is CRITICAL (possible man-in-the-middle,
or a reinstalled host someone must confirm), an unknown key UNKNOWN; both localise to "network".

Connections are reused per target (up to ``pool_size``, each multiplexing many command channels),
closed after ``idle_seconds`` unused, and belong to the App (its :class:`~.logins.Logins`) and the
event loop that opened them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from steadyops.plugins import require_driver

# the driver is an optional extra: without it a remote target reports the extra to install
# (execution.where.host_for, execution.shell.SshShell) and this machine is inspected as usual
require_driver("asyncssh", extra="ssh", kind="", purpose="SSH to a remote host")

import asyncssh  # noqa: E402

from steadyops.core.inventory import Target, split_address  # noqa: E402
from steadyops.core.models import CheckStatus  # noqa: E402
from steadyops.execution.access import SSH_PORT, CommandResult, HostAccess, Reads  # noqa: E402
from steadyops.execution.errors import HostAccessError  # noqa: E402
from steadyops.execution.logins import Logins, SshSettings  # noqa: E402

__all__ = ["SshHost", "SshSpec", "load_client_key", "open_connection"]

ACCEPT_NEW = "accept-new"
INSECURE = "insecure-ignore"


_file_lock = threading.Lock()  # appends to a known_hosts file, from the threads accept-new records in


@dataclass(frozen=True)
class SshSpec:
    """Everything that identifies one SSH login; equal specs share pooled connections."""

    host: str
    port: int
    username: str
    credentials: str
    known_hosts: str  # a path, "accept-new", "insecure-ignore" or "" (default)
    connect_timeout: float
    command_timeout: float

    @property
    def where(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    @classmethod
    def from_target(cls, target: Target, settings: SshSettings) -> SshSpec:
        labels = target.labels
        if not target.address:
            raise HostAccessError(f"target {target.name} has no address to connect to", layer="config")
        try:  # the address's own port wins over the label ssh_port
            host, port = split_address(target.address, int(labels.get("ssh_port", SSH_PORT)))
            timeout = float(labels.get("ssh_timeout", settings.connect_timeout))
        except ValueError as exc:
            raise HostAccessError(f"target {target.name}: bad address, ssh_port or ssh_timeout label ({exc})",
                                  layer="config") from None
        if not target.credentials:
            raise HostAccessError(f"no SSH key for target {target.name}: set credentials to file:/path/to/key or "
                                  "env:NAME (or label transport: local for this machine)", layer="config")
        return cls(host=host, port=port, username=labels.get("ssh_user", "root"), credentials=target.credentials,
                   known_hosts=labels.get("known_hosts", "").strip(), connect_timeout=timeout,
                   command_timeout=settings.command_timeout)


def load_client_key(ref: str) -> asyncssh.SSHKey:
    """The private key a credentials reference names; errors never quote the key material."""
    scheme, _, name = ref.partition(":")
    try:
        if scheme == "env":
            text = os.environ.get(name)
            if not text:
                raise HostAccessError(f"credentials {ref}: environment variable {name} is not set", layer="config")
            return asyncssh.import_private_key(text)
        if scheme == "file":
            return asyncssh.read_private_key(os.path.expanduser(name))
    except (OSError, asyncssh.KeyImportError) as exc:
        # asyncssh's import errors name the problem ("Invalid PEM data"), never the data itself
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        raise HostAccessError(f"credentials {ref}: cannot load the private key ({reason})", layer="config") from None
    raise HostAccessError(f"credentials {ref}: expected env:NAME or file:/path", layer="config")


def _host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True)
class _Trust:
    """The known-hosts decision for one spec, made before connecting."""

    known_hosts: asyncssh.SSHKnownHosts | None  # None: checking disabled (insecure-ignore only)
    files: tuple[Path, ...]
    has_entry: bool  # a key is already recorded for this host: a different one is a mismatch
    tofu_file: Path | None  # accept-new with nothing recorded: record the key we get


def _trust(spec: SshSpec, settings: SshSettings) -> _Trust:
    if spec.known_hosts == INSECURE:
        return _Trust(None, (), False, None)
    own = settings.own_known_hosts
    if spec.known_hosts == ACCEPT_NEW:
        files: tuple[Path, ...] = (own,)
    elif spec.known_hosts:
        files = (Path(os.path.expanduser(spec.known_hosts)),)
        if not files[0].is_file():
            raise HostAccessError(f"known_hosts file {files[0]} for {spec.where} does not exist", layer="config",
                                  source="known_hosts")
    else:
        files = tuple(p for p in (own, Path("~/.ssh/known_hosts").expanduser()) if p.is_file())
    text = "".join(p.read_text(encoding="utf-8", errors="replace") + "\n" for p in files if p.is_file())
    known = asyncssh.import_known_hosts(text)
    addr = spec.host if _is_ip(spec.host) else ""
    has_entry = bool(asyncssh.match_known_hosts(known, spec.host, addr, None if spec.port == 22 else spec.port)[0])
    tofu = own if spec.known_hosts == ACCEPT_NEW and not has_entry else None
    return _Trust(known, files, has_entry, tofu)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _Client(asyncssh.SSHClient):
    """Called for a key not among the trusted ones: a mismatch if any key is recorded, else maybe TOFU.

    The check is repeated here with the peer address asyncssh resolved, so a key recorded under the
    host's IP but not its name still counts as recorded and can never be replaced by accept-new.
    """

    def __init__(self, known: asyncssh.SSHKnownHosts | None, tofu: bool) -> None:
        self.known = known
        self.tofu = tofu
        self.mismatch = False
        self.new_key: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        if self.known is not None and asyncssh.match_known_hosts(self.known, host, addr,
                                                                 None if port == 22 else port)[0]:
            self.mismatch = True
            return False
        if self.tofu:
            self.new_key = key
            return True
        return False


def _record_key(path: Path, spec: SshSpec, key: asyncssh.SSHKey) -> None:
    """Append the first-seen key to steadyops' known_hosts (0600), unless another worker just did."""
    line = " ".join(key.export_public_key("openssh").decode().split()[:2])
    entry = f"{_host_pattern(spec.host, spec.port)} {line}\n"
    with _file_lock:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        if entry in existing:
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(entry)


async def open_connection(spec: SshSpec, settings: SshSettings) -> asyncssh.SSHClientConnection:
    """Connect and log in, translating every failure into the verdict a check should give."""
    trust = _trust(spec, settings)
    key = load_client_key(spec.credentials)
    client = _Client(trust.known_hosts, tofu=trust.tofu_file is not None)
    where = spec.where
    try:
        conn, _ = await asyncio.wait_for(asyncssh.create_connection(
            lambda: client, spec.host, spec.port, username=spec.username, client_keys=[key],
            known_hosts=trust.known_hosts, config=[], agent_path=None, preferred_auth="publickey",
            connect_timeout=spec.connect_timeout, login_timeout=spec.connect_timeout, keepalive_interval=30,
        ), spec.connect_timeout * 2)
    except asyncssh.HostKeyNotVerifiable as exc:
        files = ", ".join(str(p) for p in trust.files) or "no known_hosts file"
        if trust.has_entry or client.mismatch:
            raise HostAccessError(
                f"SSH host key of {spec.host}:{spec.port} does not match the key recorded in {files}: refusing to "
                "connect (possible man-in-the-middle, or the host was reinstalled — verify, then update the file)",
                status=CheckStatus.CRITICAL, layer="network", source=f"ssh {where}", detail=str(exc)) from None
        raise HostAccessError(
            f"SSH host key of {spec.host}:{spec.port} is unknown ({files}); record it after verifying its "
            "fingerprint, or set the target label known_hosts: accept-new", layer="network",
            source=f"ssh {where}", detail=str(exc)) from None
    except asyncssh.PermissionDenied as exc:
        raise HostAccessError(f"SSH login as {spec.username} on {spec.host}:{spec.port} refused: the key "
                              f"{spec.credentials} is not authorised there", layer="config",
                              source=f"ssh {where}", detail=str(exc)) from None
    except (TimeoutError, asyncssh.Error, OSError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
        raise HostAccessError(f"cannot reach {spec.host}:{spec.port} over SSH: {reason}", layer="network",
                              source=f"ssh {where}") from None
    if trust.tofu_file is not None and client.new_key is not None:
        await asyncio.to_thread(_record_key, trust.tofu_file, spec, client.new_key)
    return conn


@dataclass
class _Entry:
    conn: asyncssh.SSHClientConnection
    busy: int = 0
    last_used: float = field(default_factory=time.monotonic)


class _Pool:
    """One App's, per event loop: up to ``pool_size`` logins per spec, the least busy one handed out."""

    def __init__(self, settings: SshSettings) -> None:
        self.settings = settings
        self.entries: dict[SshSpec, list[_Entry]] = {}
        self.locks: dict[SshSpec, asyncio.Lock] = {}

    def _expire_idle(self) -> None:
        cutoff = time.monotonic() - self.settings.idle_seconds
        for spec, entries in self.entries.items():
            for entry in [e for e in entries if e.busy == 0 and e.last_used < cutoff]:
                entry.conn.close()
                entries.remove(entry)
            self.entries[spec] = entries

    async def _acquire(self, spec: SshSpec) -> _Entry:
        self._expire_idle()
        async with self.locks.setdefault(spec, asyncio.Lock()):
            live = [e for e in self.entries.get(spec, []) if not e.conn.is_closed()]
            self.entries[spec] = live
            best = min(live, key=lambda e: e.busy, default=None)
            if best is None or (best.busy > 0 and len(live) < self.settings.pool_size):
                best = _Entry(await open_connection(spec, self.settings))
                live.append(best)
            best.busy += 1
            return best

    @asynccontextmanager
    async def connection(self, spec: SshSpec) -> AsyncIterator[asyncssh.SSHClientConnection]:
        entry = await self._acquire(spec)
        try:
            yield entry.conn
        finally:
            entry.busy -= 1
            entry.last_used = time.monotonic()

    def discard(self, spec: SshSpec, conn: asyncssh.SSHClientConnection) -> None:
        conn.close()
        self.entries[spec] = [e for e in self.entries.get(spec, []) if e.conn is not conn]

    async def close(self) -> None:
        conns = [e.conn for entries in self.entries.values() for e in entries]
        self.entries.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            await conn.wait_closed()


def _pool(logins: Logins) -> _Pool:
    """``logins``' pool on the running event loop."""
    loop = asyncio.get_running_loop()
    pool = logins.pools.get(loop)
    if not isinstance(pool, _Pool):
        pool = _Pool(logins.settings)
        logins.pools[loop] = pool
    return pool


class SshHost(HostAccess):
    """A remote host: commands run as ``env LC_ALL=C <argv>`` on a pooled connection."""

    remote = True

    def __init__(self, spec: SshSpec, reads: Reads, logins: Logins) -> None:
        self.spec = spec
        self.reads = reads
        self.logins = logins
        self.where = spec.where

    @classmethod
    def for_target(cls, target: Target, reads: Reads, logins: Logins) -> SshHost:
        return cls(SshSpec.from_target(target, logins.settings), reads, logins)

    async def _exec(self, argv: tuple[str, ...]) -> CommandResult:
        command = "env LC_ALL=C " + shlex.join(argv)
        pool = _pool(self.logins)
        for attempt in (1, 2):
            try:
                async with pool.connection(self.spec) as conn:
                    try:
                        started = time.time()
                        done = await conn.run(command, check=False, timeout=self.spec.command_timeout)
                        finished = time.time()
                    except (asyncssh.ConnectionLost, asyncssh.ChannelOpenError, BrokenPipeError):
                        pool.discard(self.spec, conn)  # a stale pooled login: reconnect once
                        if attempt == 2:
                            raise
                        continue
            except asyncssh.TimeoutError:
                raise HostAccessError(f"`{shlex.join(argv)}` did not finish within {self.spec.command_timeout:g}s on "
                                      f"{self.where}", layer="host", source=shlex.join(argv)) from None
            except (asyncssh.Error, OSError) as exc:
                raise HostAccessError(f"SSH session to {self.where} failed: {exc}", layer="network",
                                      source=f"ssh {self.where}") from None
            rc = done.exit_status if done.exit_status is not None else -1
            return CommandResult(argv, rc, _text(done.stdout), _text(done.stderr), self.where, started, finished)
        raise AssertionError("unreachable")

    async def _read(self, path: str) -> str:
        result = await self._exec(("cat", path))
        if not result.ok:
            raise HostAccessError(f"cannot read {path} on {self.where}: {result.stderr.strip() or result.rc}",
                                  layer="host", source=f"cat {path} @ {self.where}")
        return result.stdout


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
