"""dataDir / dataLogDir: local stat, label fallback, and the remote-probe hook."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.execution.where import is_local
from steadyops.integrations.zookeeper import storage
from steadyops.integrations.zookeeper.storage import (
    DataFilesCheck,
    DirUsage,
    DiskCheck,
    local_usage,
)

FakeFactory = Callable[[dict[str, str]], Any]
MIB = 1048576


def target(address: str, **labels: str) -> Target:
    return Target(name="zk", kind="zookeeper", address=address, labels=labels)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data" / "version-2"
    d.mkdir(parents=True)
    for i in range(3):
        (d / f"snapshot.{i:x}").write_bytes(b"s" * 1000)
    (d / "log.1").write_bytes(b"l" * 5000)
    (d / "acceptedEpoch").write_text("1")
    return d


def conf_for(data: Path, log: Path | None = None) -> str:
    return (f"clientPort=2181\ndataDir={data}\ndataDirSize=8000\ndataLogDir={log or data}\n"
            f"dataLogSize={8000 if log is None else 123}\ntickTime=2000\n")


def test_local_usage_counts_snapshots_and_logs(data_dir: Path) -> None:
    usage = local_usage(str(data_dir))
    assert (usage.snapshots, usage.snapshot_bytes, usage.txn_logs, usage.txn_log_bytes) == (3, 3000, 1, 5000)
    assert 0 < usage.used_pct < 100 and usage.fs_total > 0


@pytest.mark.parametrize(("address", "labels", "local"), [
    ("127.0.0.1:2181", {}, True), ("localhost:2181", {}, True), ("[::1]:2181", {}, True),
    ("10.0.0.5:2181", {}, False), ("zk1.example:2181", {"local": "true"}, True),
    ("127.0.0.1:2181", {"local": "false"}, False),
])
def test_locality(address: str, labels: dict[str, str], local: bool) -> None:
    assert is_local(target(address, **labels)) is local


async def test_disk_ok_then_thresholds_from_labels(fake_zk: FakeFactory, data_dir: Path) -> None:
    async with fake_zk({"conf": conf_for(data_dir)}) as zk:
        ok = await DiskCheck().run(target(zk.address))
        assert ok.status is CheckStatus.OK, ok.summary
        assert ok.metrics["data_dir_used_pct"] == ok.metrics["data_log_dir_used_pct"] > 0
        assert ok.evidence[0].source == "conf" and str(data_dir) in ok.evidence[0].detail
        assert any(e.source == f"statvfs {data_dir}" for e in ok.evidence)
        full = await DiskCheck().run(target(zk.address, disk_used_pct_warn="0", disk_used_pct_crit="0.001"))
        assert full.status is CheckStatus.CRITICAL and full.layer == "disk"


async def test_data_files_counts_and_warns_on_growth(fake_zk: FakeFactory, data_dir: Path) -> None:
    async with fake_zk({"conf": conf_for(data_dir)}) as zk:
        ok = await DataFilesCheck().run(target(zk.address))
        assert ok.status is CheckStatus.OK and ok.metrics["snapshots"] == 3 and ok.metrics["txn_logs"] == 1
        many = await DataFilesCheck().run(target(zk.address, snapshot_count_warn="3"))
        assert many.status is CheckStatus.WARNING and many.layer == "disk" and "autopurge" in many.summary


async def test_refused_conf_falls_back_to_labels(fake_zk: FakeFactory, data_dir: Path) -> None:
    refusal = "conf is not executed because it is not in the whitelist.\n"
    async with fake_zk({"conf": refusal}) as zk:
        blind = await DiskCheck().run(target(zk.address))
        assert blind.status is CheckStatus.UNKNOWN and blind.layer == "config"
        assert "data_dir" in blind.summary
        # the label names the configured dataDir; the files live in its version-2 child
        labelled = await DataFilesCheck().run(target(zk.address, data_dir=str(data_dir.parent)))
        assert labelled.status is CheckStatus.OK and labelled.metrics["snapshots"] == 3


async def test_missing_directory_is_unknown_not_ok(fake_zk: FakeFactory, tmp_path: Path) -> None:
    async with fake_zk({"conf": conf_for(tmp_path / "nope")}) as zk:
        result = await DiskCheck().run(target(zk.address))
    assert result.status is CheckStatus.UNKNOWN and "FileNotFoundError" in str(result.evidence)


async def test_remote_without_a_login_names_the_label_and_sizes_from_conf(fake_zk: FakeFactory,
                                                                         data_dir: Path) -> None:
    async with fake_zk({"conf": conf_for(data_dir, data_dir.parent / "log")}) as zk:
        t = target(zk.address, local="false")
        disk = await DiskCheck().run(t)
        assert disk.status is CheckStatus.UNKNOWN and "ssh_credentials" in disk.summary
        files = await DataFilesCheck().run(t)
        assert files.status is CheckStatus.OK and files.metrics == {"data_dir_bytes": 8000, "data_log_dir_bytes": 123}
        big = await DataFilesCheck().run(target(zk.address, local="false", data_files_warn_mb="0.001"))
        assert big.status is CheckStatus.WARNING and big.layer == "disk"


async def test_a_remote_probe_is_used(fake_zk: FakeFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []

    class Probe:
        async def usage(self, target: Target, path: str) -> DirUsage:
            seen.append((target.name, path))
            return DirUsage(path, fs_total=100 * MIB, fs_used=95 * MIB, fs_free=5 * MIB, snapshots=2)

    monkeypatch.setattr(storage, "probe_for", lambda target, logins: Probe())
    async with fake_zk({"conf": conf_for(Path("/var/lib/zookeeper/version-2"))}) as zk:
        result = await DiskCheck().run(target(zk.address, local="false"))
    assert result.status is CheckStatus.CRITICAL and result.metrics["data_dir_used_pct"] == 95.0
    assert seen == [("zk", "/var/lib/zookeeper/version-2")]  # dataDir == dataLogDir: measured once
