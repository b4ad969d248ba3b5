"""``steadyops do "磁盘清理 all"`` end to end: the CLI, a real API server, two REAL ZooKeepers.

Two standalone servers with ``snapCount=10`` get a few hundred writes each, so both data
directories hold dozens of real snapshots and txn logs. The policy lets ``zk-a`` (env=dev) purge
automatically and makes ``zk-b`` (env=prod) wait for one approver: one command plans both, applies
the first (``--yes``), leaves the second pending; ``act approve`` + ``act apply`` finish it. Each
server is then SIGKILLed and restarted and must report the same znode count as before.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from steadyops.cli import _root
from steadyops.cli import act as act_cli
from steadyops.cli import do as do_cli
from steadyops.cli.common import state
from steadyops.core.i18n import Lang, t
from steadyops.integrations.zookeeper import register
from steadyops.integrations.zookeeper.actions import scan
from steadyops.plugins import Registry
from tests.harness.server import Server
from tests.harness.services import ServiceMissing
from tests.harness.zookeeper import ZkCluster, start_standalone

pytestmark = pytest.mark.integration

runner = CliRunner()
CLI = typer.Typer()
CLI.callback()(_root)
do_cli.register(CLI)
CLI.add_typer(act_cli.app, name="act")


def _frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def write_znodes(port: int, prefix: str, n: int, batch: int = 10) -> None:
    """Create ``prefix`` and ``n`` children over the wire protocol (no client library), ``batch`` at a time.

    The pause between batches lets each snapshot finish: ZooKeeper skips a snapshot ("too busy to
    snap") while the previous one is still being written, and the test wants many of them.
    """
    acl = struct.pack(">ii", 1, 31) + _frame(b"world") + _frame(b"anyone")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")

        def call(requests: list[bytes], header: bool = True) -> None:
            sock.sendall(b"".join(requests))
            for _ in requests:
                reply = reader.read(struct.unpack(">i", reader.read(4))[0])
                assert not header or struct.unpack(">iqi", reply[:16])[2] == 0, "zookeeper refused a write"

        call([_frame(struct.pack(">iqiq", 0, 0, 10_000, 0) + _frame(bytes(16)) + b"\0")], header=False)  # connect
        paths = [prefix] + [f"{prefix}/n{i}" for i in range(n)]
        for start in range(0, len(paths), batch):
            call([_frame(struct.pack(">ii", xid, 1) + _frame(p.encode()) + _frame(p.encode() * 8) + acl
                         + struct.pack(">i", 0)) for xid, p in enumerate(paths[start:start + batch], start + 1)])
            time.sleep(0.02)
        call([_frame(struct.pack(">ii", len(paths) + 1, -11))])  # close the session


def znode_count(zk: ZkCluster) -> int:
    mntr = dict(line.split("\t", 1) for line in zk.nodes[0].ask("mntr").splitlines() if "\t" in line)
    return int(mntr["zk_znode_count"])


@pytest.fixture(scope="module")
def two_zk() -> Iterator[list[ZkCluster]]:
    with contextlib.ExitStack() as stack:  # closes what started, whatever fails after
        try:
            started = [stack.enter_context(start_standalone(extra_config={"snapCount": "10", "preAllocSize": "64"}))
                       for _ in range(2)]
        except ServiceMissing as exc:
            if os.environ.get("STEADYOPS_REQUIRE_SERVICES") == "1":
                pytest.fail(f"zookeeper: {exc}")
            pytest.skip(f"zookeeper: {exc}")
        for name, zk in zip("ab", started, strict=True):
            write_znodes(zk.nodes[0].client_port, f"/svc-{name}", 400)
        yield started


@pytest.fixture
def server(make_app: Any, tmp_path: Path, two_zk: list[ZkCluster], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    a, b = (zk.nodes[0] for zk in two_zk)
    inv = tmp_path / "inventory.yaml"
    inv.write_text("targets:\n"
                   f"  - {{name: zk-a, kind: zookeeper, address: '{a.address}', labels: {{env: dev}}}}\n"
                   f"  - {{name: zk-b, kind: zookeeper, address: '{b.address}', labels: {{env: prod}}}}\n")
    reg = Registry()
    register(reg)
    app = make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["zookeeper.purge"], "target_labels": {"env": "dev"}, "mode": "auto"},
                     {"actions": ["zookeeper.purge"], "target_labels": {"env": "prod"}, "mode": "one",
                      "approvers": ["alice"]}],
        "allow": [{"actions": ["zookeeper.purge"], "targets": ["zk-a"], "paths": [str(a.data_dir)]},
                  {"actions": ["zookeeper.purge"], "targets": ["zk-b"], "paths": [str(b.data_dir)]}]})
    monkeypatch.setenv("STEADYOPS_INVENTORY", str(inv))
    monkeypatch.setenv("STEADYOPS_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)
    state._settings = None
    with Server(app) as srv:
        yield srv
    state._settings = None


def cli(srv: Server, *args: str, code: int = 0, lang: Lang = "en", token: str | None = None) -> Result:
    result = runner.invoke(CLI, ["--lang", lang, "--server", srv.url, "--token", token or srv.token, *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def expected_survivors(vdir: Path) -> set[str]:
    snaps, logs, _ = scan(str(vdir), str(vdir))
    kept = sorted(snaps, key=lambda s: s.zxid)[-3:]
    first_log = max(f.zxid for f in logs if f.zxid <= kept[0].zxid)  # holds the txns right after it
    return {s.name for s in kept} | {f.name for f in logs if f.zxid >= first_log}


def test_disk_cleanup_all_on_two_real_zookeepers(server: Server, two_zk: list[ZkCluster]) -> None:
    dirs = [zk.nodes[0].data_dir / "version-2" for zk in two_zk]
    survivors = [expected_survivors(d) for d in dirs]
    counts = [znode_count(zk) for zk in two_zk]
    assert all(len(os.listdir(d)) > 15 for d in dirs)

    out = cli(server, "do", "磁盘清理 all", "--yes", lang="zh").stdout
    print(out)  # the transcript, with -s
    header_a = t("act.plan_header", "zh", id=1, action="zookeeper.purge", target="zk-a",
                 risk=t("act.risk.medium", "zh"))
    assert out.index(header_a) < out.index("完成：freed") < out.index(t("do.cleanup_summary", "zh"))
    assert t("do.cleanup_pending", "zh", id=2) in out
    summary = out[out.index(t("do.cleanup_summary", "zh")):]
    assert t("do.result.applied", "zh") in summary and t("do.result.pending", "zh") in summary
    assert {n for n in os.listdir(dirs[0]) if n.startswith(("snapshot.", "log."))} == survivors[0]
    assert len(os.listdir(dirs[1])) > 15  # zk-b waits for alice: nothing touched yet

    out = cli(server, "act", "approve", "2", "--reason", "dataLogDir 91%",
              token=server.token_for("alice", "approver")).stdout
    print(out)
    assert "approved" in out
    out = cli(server, "act", "apply", "2").stdout
    print(out)
    assert out.startswith("Done: freed") and "archive" in out
    assert {n for n in os.listdir(dirs[1]) if n.startswith(("snapshot.", "log."))} == survivors[1]

    for zk, count in zip(two_zk, counts, strict=True):
        zk.kill(1)
        zk.start(1)
        zk.wait_serving([1])
        assert zk.nodes[0].ask("ruok") == "imok" and znode_count(zk) == count
