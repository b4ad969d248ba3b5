"""Start REAL ZooKeeper servers (standalone or an N-node ensemble) on free loopback ports.

The ZooKeeper checks are only worth something if they are proven against the real server's
answers and failure modes (quorum loss, a restricted ``4lw.commands.whitelist``, a full dataDir),
so integration tests run the Debian package's jars as plain ``java`` subprocesses — no systemd, no
``/etc/zookeeper`` — each node with its own temporary data directory and config::

    with start_ensemble(3) as zk:          # waits until a leader and followers serve
        zk.stop(2)                         # SIGTERM one member, zk.kill(2) for SIGKILL
        zk.wait_leader([1, 3])             # after a failover
        zk.restart_stopped()               # back, in quorum again

    with start_standalone(whitelist="srvr", admin=True) as zk:
        zk.nodes[0].address                # "127.0.0.1:<port>"; zk.targets() for an inventory

    with small_filesystem(tmp / "zk", "20m") as d, start_standalone(data_dir=d) as zk:
        ...                                # a dataDir a test can fill (tmpfs, root only)

The JVMs are kept small (``-Xmx128m``, serial GC, C1 only) and the tick short (200 ms) so a
3-node ensemble starts in a few seconds and notices a lost quorum in about one second, which keeps
the fault-injection suite fast on a 2-core CI box. Every wait is bounded and raises with the tail
of the node's log.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from steadyops.core.inventory import Target
from tests.harness.services import ServiceError, ServiceMissing, free_port

__all__ = [
    "ZkCluster",
    "ZkNode",
    "find_zookeeper_classpath",
    "four_letter_word",
    "small_filesystem",
    "start_ensemble",
    "start_standalone",
]

DEBIAN_JAR = Path("/usr/share/java/zookeeper.jar")  # its manifest's Class-Path names the dependencies
UPSTREAM_LIB = Path("/usr/share/zookeeper/lib")
EXTRA_JARS = ("slf4j-simple.jar",)  # a logging binding, so a failing node's log says why
ADMIN_JARS = ("servlet-api.jar",)  # Jetty's AdminServer needs javax.servlet, not in the manifest
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
JVM_OPTS = (
    "-Xmx128m", "-Xms16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
    "-Djava.net.preferIPv4Stack=true", "-Djava.awt.headless=true",
    "-Dzookeeper.cnxTimeout=500",  # election connects to dead peers give up fast
    "-Dzookeeper.preAllocSize=1024",  # 1 MiB txn-log preallocation instead of 64 MiB (tiny tmpfs dataDirs)
    "-Dzookeeper.jmx.log4j.disable=true",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
)


def find_zookeeper_classpath(admin: bool = False) -> str:
    """The classpath for ``QuorumPeerMain``: $STEADYOPS_ZOOKEEPER_HOME/lib, the upstream or Debian layout.

    Raises :class:`ServiceMissing` (tests skip, or fail under ``STEADYOPS_REQUIRE_SERVICES=1``).
    """
    home = os.environ.get("STEADYOPS_ZOOKEEPER_HOME")
    for lib in ([Path(home) / "lib"] if home else []) + [UPSTREAM_LIB]:
        jars = sorted(lib.glob("*.jar")) if lib.is_dir() else []
        if any(j.name.startswith("zookeeper-") for j in jars):
            return os.pathsep.join(str(j) for j in jars)
    if not DEBIAN_JAR.is_file():
        raise ServiceMissing("ZooKeeper is not installed (no /usr/share/java/zookeeper.jar); "
                             "run scripts/install-test-deps.sh (Debian packages: zookeeper, default-jre-headless)")
    extra = [DEBIAN_JAR.parent / name for name in (*EXTRA_JARS, *(ADMIN_JARS if admin else ()))]
    return os.pathsep.join([str(DEBIAN_JAR), *(str(p) for p in extra if p.is_file())])


def _java() -> str:
    java = shutil.which("java") or ("/usr/bin/java" if Path("/usr/bin/java").exists() else None)
    if java is None:
        raise ServiceMissing("java is not installed (Debian package: default-jre-headless)")
    return java


def four_letter_word(port: int, cmd: str, *, host: str = "127.0.0.1", timeout: float = 2.0) -> str:
    """Blocking 4lw round trip for the harness itself (the checks use their own asyncio client)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(cmd.encode("ascii"))
        chunks: list[bytes] = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


@dataclass
class ZkNode:
    """One server: its myid, ports, directories and (while running) its process."""

    myid: int
    client_port: int
    quorum_port: int
    election_port: int
    admin_port: int | None
    workdir: Path
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / "zoo.cfg"

    @property
    def log_path(self) -> Path:
        return self.workdir / "zookeeper.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, limit: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def ask(self, cmd: str, timeout: float = 2.0) -> str:
        return four_letter_word(self.client_port, cmd, timeout=timeout)

    def mode(self) -> str | None:
        """``leader`` / ``follower`` / ``standalone`` while serving, else None (down or not serving)."""
        try:
            answer = self.ask("srvr")
        except OSError:
            return None
        for line in answer.splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
        return None


class ZkCluster:
    """A standalone server (``size=1``) or an ensemble; nodes are addressed by 1-based myid."""

    def __init__(self, size: int = 1, *, whitelist: str = "*", admin: bool = False, tick_ms: int = 200,
                 data_dirs: Mapping[int, Path] | None = None, extra_config: Mapping[str, str] | None = None,
                 workdir: Path | None = None, log_level: str = "warn") -> None:
        if size < 1:
            raise ValueError("an ensemble needs at least one node")
        self.classpath = find_zookeeper_classpath(admin=admin)
        self.java = _java()
        self.whitelist = whitelist
        self.admin = admin
        self.tick_ms = tick_ms
        self.extra_config = dict(extra_config or {})
        self.log_level = log_level
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="steadyops-zk-"))
        self.nodes: list[ZkNode] = []
        for myid in range(1, size + 1):
            wd = self.workdir / f"node{myid}"
            wd.mkdir(parents=True, exist_ok=True)
            data = (data_dirs or {}).get(myid) or wd / "data"
            data.mkdir(parents=True, exist_ok=True)
            self.nodes.append(ZkNode(myid, free_port(), free_port(), free_port(),
                                     free_port() if admin else None, wd, data))
        for node in self.nodes:
            self._write_config(node)

    # -- configuration ---------------------------------------------------------------------------
    def _write_config(self, node: ZkNode) -> None:
        lines = {
            "tickTime": str(self.tick_ms), "initLimit": "10", "syncLimit": "5",
            "dataDir": str(node.data_dir), "clientPort": str(node.client_port),
            "clientPortAddress": "127.0.0.1", "4lw.commands.whitelist": self.whitelist,
            "admin.enableServer": "true" if node.admin_port else "false",
        }
        if node.admin_port:
            lines.update({"admin.serverAddress": "127.0.0.1", "admin.serverPort": str(node.admin_port)})
        lines.update(self.extra_config)
        text = "".join(f"{k}={v}\n" for k, v in lines.items())
        if len(self.nodes) > 1:
            # the client address after ";" lets `conf` tell a checker where every member listens
            text += "".join(f"server.{n.myid}=127.0.0.1:{n.quorum_port}:{n.election_port};"
                            f"127.0.0.1:{n.client_port}\n" for n in self.nodes)
            (node.data_dir / "myid").write_text(f"{node.myid}\n", encoding="ascii")
        node.config_path.write_text(text, encoding="utf-8")

    # -- lifecycle -------------------------------------------------------------------------------
    def node(self, myid: int) -> ZkNode:
        return self.nodes[myid - 1]

    def start(self, myid: int) -> None:
        """Start one node (no wait: an ensemble member cannot serve until a quorum is up)."""
        node = self.node(myid)
        if node.running:
            return
        args = [self.java, *JVM_OPTS, f"-Dorg.slf4j.simpleLogger.defaultLogLevel={self.log_level}",
                "-cp", self.classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(node.config_path)]
        with node.log_path.open("ab") as log:
            node.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=node.workdir, start_new_session=True)

    def start_all(self, *, wait: bool = True, timeout: float = READY_TIMEOUT) -> None:
        for node in self.nodes:
            self.start(node.myid)
        if wait:
            self.wait_serving(timeout=timeout)

    def stop(self, myid: int, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (an orderly shutdown), SIGKILL if it lingers past ``timeout``."""
        proc = self.node(myid).proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def kill(self, myid: int) -> None:
        """SIGKILL: a crash, no shutdown hooks."""
        proc = self.node(myid).proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(STOP_TIMEOUT)

    def restart_stopped(self, *, timeout: float = READY_TIMEOUT) -> None:
        """Bring every stopped node back and wait until all serve: the reset between tests."""
        for node in self.nodes:
            if not node.running:
                self.start(node.myid)
        self.wait_serving(timeout=timeout)

    # -- waiting ---------------------------------------------------------------------------------
    def _probe(self, node: ZkNode) -> str | None:
        """A serving node's mode; the probe adapts to a whitelist that refuses ``srvr``."""
        allowed = {w.strip() for w in self.whitelist.split(",")}
        if "*" in allowed or "srvr" in allowed:
            return node.mode()
        try:
            with socket.create_connection(("127.0.0.1", node.client_port), timeout=1.0):
                return "listening"
        except OSError:
            return None

    def wait_serving(self, myids: Sequence[int] | None = None, *, timeout: float = READY_TIMEOUT) -> dict[int, str]:
        """Wait until the named (default: all running) nodes serve; return their modes."""
        wanted = list(myids) if myids is not None else [n.myid for n in self.nodes if n.proc is not None]
        deadline = time.monotonic() + timeout
        modes: dict[int, str] = {}
        while True:
            for myid in wanted:
                node = self.node(myid)
                if node.proc is not None and node.proc.poll() is not None:
                    raise ServiceError(f"zookeeper node {myid} exited with status {node.proc.returncode}; "
                                       f"log:\n{node.log_tail()}")
                mode = self._probe(node)
                if mode:
                    modes[myid] = mode
                else:
                    modes.pop(myid, None)
            if len(modes) == len(wanted):
                return modes
            if time.monotonic() > deadline:
                missing = sorted(set(wanted) - set(modes))
                tails = "".join(f"\n--- node {m} ---\n{self.node(m).log_tail()}" for m in missing)
                raise ServiceError(f"zookeeper nodes {missing} not serving after {timeout:g}s{tails}")
            time.sleep(0.1)

    def wait_leader(self, myids: Sequence[int] | None = None, *, timeout: float = READY_TIMEOUT) -> int:
        """Wait until the named nodes serve with exactly one leader among them (after a failover); its myid.

        Needed after stopping a leader: a follower may still answer "follower" for a moment before
        it notices, so "all serving" alone could be read from the old epoch.
        """
        deadline = time.monotonic() + timeout
        while True:
            modes = self.wait_serving(myids, timeout=max(0.1, deadline - time.monotonic()))
            leaders = [m for m, mode in modes.items() if mode == "leader"]
            if len(leaders) == 1:
                return leaders[0]
            if time.monotonic() > deadline:
                raise ServiceError(f"no single leader among {sorted(modes)} after {timeout:g}s: {modes}")
            time.sleep(0.1)

    def wait_not_serving(self, myid: int, *, timeout: float = 15.0) -> None:
        """Wait until a running node answers but says it is not serving (it lost its quorum)."""
        node = self.node(myid)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if "not currently serving" in node.ask("srvr"):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServiceError(f"zookeeper node {myid} still serving after {timeout:g}s\n{node.log_tail()}")
            time.sleep(0.1)

    # -- helpers for tests -----------------------------------------------------------------------
    @property
    def addresses(self) -> list[str]:
        return [n.address for n in self.nodes]

    def targets(self, *, cluster: str | None = None, prefix: str = "zk",
                labels: Mapping[str, str] | None = None) -> list[Target]:
        """Inventory targets for the nodes (``cluster`` label for an ensemble view; ``admin_port`` if on)."""
        out = []
        for n in self.nodes:
            lab = dict(labels or {})
            if cluster:
                lab["cluster"] = cluster
            if n.admin_port:
                lab.setdefault("admin_port", str(n.admin_port))
            out.append(Target(name=f"{prefix}{n.myid}", kind="zookeeper", address=n.address, labels=lab))
        return out

    def close(self) -> None:
        for node in self.nodes:
            self.stop(node.myid)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def start_standalone(*, whitelist: str = "*", admin: bool = False, data_dir: Path | None = None,
                     extra_config: Mapping[str, str] | None = None, log_level: str = "warn",
                     timeout: float = READY_TIMEOUT) -> ZkCluster:
    """One standalone server, serving when returned; ``data_dir`` e.g. a :func:`small_filesystem`."""
    cluster = ZkCluster(1, whitelist=whitelist, admin=admin, data_dirs={1: data_dir} if data_dir else None,
                        extra_config=extra_config, log_level=log_level)
    return _started(cluster, timeout)


def start_ensemble(size: int = 3, *, whitelist: str = "*", admin: bool = False,
                   data_dirs: Mapping[int, Path] | None = None, extra_config: Mapping[str, str] | None = None,
                   log_level: str = "warn", timeout: float = READY_TIMEOUT) -> ZkCluster:
    """An ensemble of ``size`` nodes, with a leader elected and every member serving when returned."""
    cluster = ZkCluster(size, whitelist=whitelist, admin=admin, data_dirs=data_dirs, extra_config=extra_config,
                        log_level=log_level)
    return _started(cluster, timeout)


def _started(cluster: ZkCluster, timeout: float) -> ZkCluster:
    try:
        cluster.start_all(timeout=timeout)
    except BaseException:
        cluster.close()
        raise
    return cluster


@contextmanager
def small_filesystem(path: Path, size: str = "20m") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``path`` (root only) so a test can fill it without filling a disk.

    Raises :class:`ServiceMissing` when mounting is not allowed here (not root, no mount binary).
    """
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        raise ServiceMissing("mounting a tmpfs needs root and mount(8)")
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                            capture_output=True, text=True, timeout=10, check=False)
    if result.returncode != 0:
        raise ServiceMissing(f"cannot mount a tmpfs at {path}: {result.stderr.strip()}")
    try:
        yield path
    finally:
        umount = shutil.which("umount") or "umount"
        done = subprocess.run([umount, str(path)], capture_output=True, timeout=10, check=False)
        if done.returncode != 0:  # still busy (a process we could not stop): detach it lazily
            subprocess.run([umount, "-l", str(path)], capture_output=True, timeout=10, check=False)
