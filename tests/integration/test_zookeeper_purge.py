"""``zookeeper.purge`` against a REAL ZooKeeper with a long history: frees space, and loses nothing.

A standalone server with ``snapCount=50`` takes 2,500 writes, which leaves dozens of real
snapshots and txn logs (ZooKeeper rolls its log and snapshots every 25–50 transactions). The purge
then runs through the executor exactly as in production — propose (a plan with no side effects),
one approval, apply (archive, verify, delete), verification checks — and afterwards the server is
killed with SIGKILL and restarted, so it must rebuild its whole tree from the files the purge kept:
every znode written is read back and compared. Rollback puts the purged files back bit for bit.

The znodes are written and read with a minimal client of ZooKeeper's own wire protocol (jute over
TCP: connect, create, getData, getChildren, close) so the test needs no client library.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from steadyops.contracts.actions import ActionContext
from steadyops.core.models import ApprovalDecision, Plan
from steadyops.execution import archive
from steadyops.integrations.zookeeper import register
from steadyops.integrations.zookeeper.actions import LOG, SNAP, ZkPurge, scan
from steadyops.plugins import Registry
from tests.harness.services import ServiceMissing
from tests.harness.zookeeper import ZkCluster, start_standalone

pytestmark = pytest.mark.integration

ZNODES = 2500
PARENT = "/purge"
OPEN_ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + b"".join(
    struct.pack(">i", len(s)) + s for s in (b"world", b"anyone"))


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">i", len(raw)) + raw


class RawZk:
    """Just enough of the client protocol to write and read znodes, pipelined ``window`` at a time."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.xid = 0
        # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (16 bytes), readOnly
        self._send(struct.pack(">iqiq", 0, 0, 10_000, 0) + struct.pack(">i", 16) + bytes(16) + b"\0")
        self._recv()

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("zookeeper closed the connection")
            buf += chunk
        return bytes(buf)

    def _send(self, body: bytes) -> None:
        self.sock.sendall(struct.pack(">i", len(body)) + body)

    def _recv(self) -> bytes:
        return self._exact(struct.unpack(">i", self._exact(4))[0])

    def _calls(self, op: int, bodies: Sequence[bytes], window: int = 250) -> list[bytes]:
        """Send requests and return each reply's body after its header; raise on any error code."""
        out: list[bytes] = []
        for start in range(0, len(bodies), window):
            batch = bodies[start:start + window]
            for body in batch:
                self.xid += 1
                self._send(struct.pack(">ii", self.xid, op) + body)
            for _ in batch:
                reply = self._recv()
                _xid, _zxid, err = struct.unpack(">iqi", reply[:16])
                if err:
                    raise RuntimeError(f"zookeeper error {err} for op {op}")
                out.append(reply[16:])
        return out

    def create(self, items: Sequence[tuple[str, bytes]]) -> None:
        self._calls(1, [_string(p) + struct.pack(">i", len(d)) + d + OPEN_ACL + struct.pack(">i", 0)
                        for p, d in items])

    def get(self, paths: Sequence[str]) -> list[bytes]:
        replies = self._calls(4, [_string(p) + b"\0" for p in paths])
        return [r[4:4 + struct.unpack(">i", r[:4])[0]] for r in replies]

    def children(self, path: str) -> set[str]:
        reply = self._calls(8, [_string(path) + b"\0"])[0]
        count, pos, names = struct.unpack(">i", reply[:4])[0], 4, set()
        for _ in range(count):
            n = struct.unpack(">i", reply[pos:pos + 4])[0]
            names.add(reply[pos + 4:pos + 4 + n].decode())
            pos += 4 + n
        return names

    def close(self) -> None:
        try:
            self._calls(-11, [b""])
        finally:
            self.sock.close()


def written() -> dict[str, bytes]:
    """Every znode the test writes and its data (service-registry-like JSON, as ZooKeeper usually holds)."""
    return {f"{PARENT}/n{i:05d}": (f'{{"id": {i}, "owner": "svc-{i % 17}", "endpoint": "10.{i % 256}.{i // 256}.7:'
                                   f'{8000 + i % 1000}", "token": "{hashlib.sha256(str(i).encode()).hexdigest()}"}}'
                                   ).encode() for i in range(ZNODES)}


def wait_quiet(directory: Path, timeout: float = 10.0) -> None:
    """Until no snapshot is being written: the newest is sealed and the listing holds still for 0.3 s."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        snaps, logs, _ = scan(str(directory), str(directory))
        now = [(f.path, f.size, f.mtime, f.valid) for f in (*snaps, *logs)]
        if now == last and snaps and max(snaps, key=lambda s: s.zxid).valid:
            return
        last = now
        time.sleep(0.3)
    raise AssertionError(f"{directory} kept changing")


def read_all(port: int) -> dict[str, bytes]:
    client = RawZk(port)
    try:
        names = sorted(client.children(PARENT))
        paths = [f"{PARENT}/{n}" for n in names]
        return dict(zip(paths, client.get(paths), strict=True))
    finally:
        client.close()


def digest(paths: Sequence[str]) -> dict[str, tuple[str, int, float]]:
    return {p: (archive.sha256_file(p), os.lstat(p).st_size, os.lstat(p).st_mtime) for p in paths}


@pytest.fixture(scope="module")
def zk() -> Iterator[ZkCluster]:
    """A standalone server with a long history: many snapshots and txn logs in its version-2."""
    try:
        cluster = start_standalone(extra_config={"snapCount": "50", "preAllocSize": "64"})
    except ServiceMissing as exc:
        if os.environ.get("STEADYOPS_REQUIRE_SERVICES") == "1":
            pytest.fail(f"zookeeper: {exc}")
        pytest.skip(f"zookeeper: {exc}")
    with cluster:
        client = RawZk(cluster.nodes[0].client_port)
        client.create([(PARENT, b"")])
        client.create(list(written().items()))
        client.close()
        wait_quiet(cluster.nodes[0].data_dir / "version-2")
        yield cluster


@pytest.fixture
def purge_app(make_app: Any, tmp_path: Path, zk: ZkCluster) -> Any:
    """An App whose inventory is the real server; purges need one approval; only its dataDir is allowed."""
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"targets:\n  - {{name: zk1, kind: zookeeper, address: '{zk.nodes[0].address}', "
                   "labels: {env: prod}}\n")
    reg = Registry()
    register(reg)
    return make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["zookeeper.purge"], "mode": "one", "approvers": ["alice"]}],
        "allow": [{"actions": ["zookeeper.purge"], "targets": ["zk1"], "paths": [str(zk.nodes[0].data_dir)]}],
    })


async def test_purge_frees_space_and_zookeeper_restores_every_znode(purge_app: Any, zk: ZkCluster) -> None:
    app, node = purge_app, zk.nodes[0]
    vdir = node.data_dir / "version-2"
    snaps, logs, _ = scan(str(vdir), str(vdir))
    assert len(snaps) >= 8 and len(logs) >= 20, (len(snaps), len(logs))  # a long, real history
    before = digest([f.path for f in (*snaps, *logs)])

    run = await app.executor.propose("zookeeper.purge", "zk1", {}, "dave")
    assert digest([f.path for f in (*snaps, *logs)]) == before  # plan() has no side effects
    assert sorted(os.listdir(vdir)) == sorted(os.path.basename(p) for p in before)
    plan = Plan.model_validate(run.plan)
    doomed = [s.paths[0] for s in plan.steps if s.kind == "delete"]
    # What must survive, computed here from the listing, independently of the action's code: the 3
    # newest snapshots, the log holding the transactions right after the oldest of them, all later logs
    kept_snaps = sorted(snaps, key=lambda s: s.zxid)[-3:]
    first_log = max(f.zxid for f in logs if f.zxid <= kept_snaps[0].zxid)
    needed = {f.path for f in logs if f.zxid >= first_log} | {s.path for s in kept_snaps}
    assert first_log < kept_snaps[0].zxid  # real data: the spanning-log case is exercised
    assert doomed and not needed & set(doomed)
    assert set(doomed) == {f.path for f in (*snaps, *logs)} - needed  # everything else goes
    assert run.status == "pending_approval"
    assert app.executor.decide(run.id, "alice", ApprovalDecision.APPROVE, "disk 91%").status == "approved"

    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert outcome.bytes_freed == sum(before[p][1] for p in doomed) > 0
    assert outcome.details["hosts"]["zk1"]["bytes_freed"] == outcome.bytes_freed
    assert node.ask("ruok") == "imok"  # still serving: a running server never reads old files
    sums = archive.verify(Path(outcome.details["archive"]))
    assert sums == {p: before[p][0] for p in doomed}
    assert sorted(str(vdir / n) for n in os.listdir(vdir) if n.startswith((SNAP, LOG))) == sorted(needed)

    zk.kill(1)  # a crash, not a clean shutdown: the tree must come back from the kept files alone
    zk.start(1)
    zk.wait_serving([1])
    assert read_all(node.client_port) == written()

    ctx = ActionContext(backup_dir=str(app.executor.backup_dir / "zk1"), allowed_paths=[str(node.data_dir)],
                        allowed_commands=[])
    back = await ZkPurge().rollback(plan, outcome, ctx)
    assert back.ok and sorted(back.details["restored"]) == sorted(doomed)
    assert digest(doomed) == {p: before[p] for p in doomed}  # same bytes, same size, same mtime
    assert read_all(node.client_port) == written()
    kinds = [e.kind for e in app.audit.entries()]
    assert kinds == ["planned", "approve", "apply_started", "succeeded"] and app.audit.verify().ok


async def test_purge_refuses_outside_the_allow_list_and_remote_targets(make_app: Any, tmp_path: Path,
                                                                       zk: ZkCluster) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"targets:\n  - {{name: zk1, kind: zookeeper, address: '{zk.nodes[0].address}'}}\n"
                   "  - {name: zk9, kind: zookeeper, address: '10.0.0.9:2181', labels: {data_dir: /var/lib/zk}}\n")
    reg = Registry()
    register(reg)
    app = make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["zookeeper.purge"], "mode": "auto"}],
        "allow": [{"actions": ["zookeeper.purge"], "paths": [str(tmp_path / "elsewhere")]}]})
    from steadyops.core.errors import Refused

    with pytest.raises(Refused, match="outside the allow-list"):
        await app.executor.propose("zookeeper.purge", "zk1", {}, "dave")
    with pytest.raises(Refused, match="no SSH key for target zk9"):  # remote: over SSH, which needs a key
        await app.executor.propose("zookeeper.purge", "zk9", {}, "dave")
    assert [e.kind for e in app.audit.entries()] == ["refused", "refused"]
