"""Real ZooKeeper 3.8 (Debian jars), real faults: each test asserts the finding AND the localisation.

| fault injected                          | expected finding                 | localised to                        |
|-----------------------------------------|----------------------------------|-------------------------------------|
| none (standalone, 3-node ensemble)      | every check OK                   | —                                   |
| one member stopped (the leader, SIGTERM)| zookeeper.port CRITICAL on it    | process; ensemble WARNING (held)    |
| 2 of 3 gone (SIGKILL + SIGTERM)         | survivor: zookeeper.quorum CRIT. | quorum; ensemble CRITICAL (lost)    |
| 4lw.commands.whitelist=srvr             | zookeeper.whitelist WARNING      | config, never "down"; AdminServer OK|
| dataDir on a 20 MiB tmpfs filled to 95 %| zookeeper.disk CRITICAL          | disk                                |

One ensemble is shared by the module (started once, members restarted before each test) so the
whole file runs in well under the 90 s budget on a 2-core box.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import Alert, CheckStatus, Finding
from steadyops.integrations.zookeeper import register
from steadyops.integrations.zookeeper.collectors import ConfCollector, ConsCollector, MntrCollector
from steadyops.integrations.zookeeper.diagnose import ZkReport, zk_inspect
from steadyops.plugins import Registry
from steadyops.runner.checks import CheckRunner
from steadyops.store import alerts as alerts_repo
from tests.harness.services import ServiceMissing
from tests.harness.zookeeper import (
    ZkCluster,
    find_zookeeper_classpath,
    small_filesystem,
    start_ensemble,
    start_standalone,
)

pytestmark = pytest.mark.integration

OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL


def _missing(what: str, exc: ServiceMissing) -> None:
    """Skip when missing, fail under STEADYOPS_REQUIRE_SERVICES=1 (CI must not pass by skipping)."""
    if os.environ.get("STEADYOPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what}: {exc}")
    pytest.skip(f"{what}: {exc}")


def _need_zookeeper() -> None:
    try:
        find_zookeeper_classpath()
    except ServiceMissing as exc:
        _missing("zookeeper", exc)


@pytest.fixture(scope="module")
def ensemble() -> Iterator[ZkCluster]:
    _need_zookeeper()
    with start_ensemble(3) as zk:
        yield zk


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 20 MiB tmpfs to be a dataDir, unmounted after the test (root only)."""
    try:
        with small_filesystem(tmp_path / "zkdata", "20m") as mount:
            yield mount
    except ServiceMissing as exc:
        _missing("a tmpfs for the dataDir", exc)


@pytest.fixture
def zk3(ensemble: ZkCluster) -> ZkCluster:
    """The shared ensemble with every member back and serving (the previous test may have stopped some)."""
    ensemble.restart_stopped()
    return ensemble


def runner_for(make_app: Any, clock: FakeClock, targets: list[Target]) -> CheckRunner:
    reg = Registry()
    register(reg)
    return CheckRunner(reg, Inventory(targets), make_app().store, clock)


def findings_of(report: ZkReport, target: str) -> dict[str, Finding]:
    return {f.check: f for f in report.findings if f.target == target}


def alerts(runner: CheckRunner) -> list[Alert]:
    with runner.store.transaction() as s:
        return [alerts_repo.row_to_alert(row) for row in alerts_repo.pending_events(s, 1000)]


async def test_standalone_healthy(make_app: Any, fake_clock: FakeClock) -> None:
    _need_zookeeper()
    with start_standalone() as zk:
        (target,) = zk.targets()
        runner = runner_for(make_app, fake_clock, [target])
        report = await zk_inspect(runner)
        bad = [(f.check, f.status.value, f.summary) for f in report.findings if f.status is not OK]
        assert not bad and len(report.findings) == 12
        (t,) = report.targets
        assert (t.layer, t.role, t.serving, report.status) == (None, "standalone", True, OK)
        assert alerts(runner) == []
        mntr = await MntrCollector().collect(target)
        assert mntr.data["values"]["zk_server_state"] == "standalone"
        conf = await ConfCollector().collect(target)
        assert conf.data["values"]["dataDir"].startswith(str(zk.nodes[0].data_dir))
        cons = await ConsCollector().collect(target)
        assert cons.data["count"] >= 1  # at least our own connection


async def test_ensemble_healthy(zk3: ZkCluster, make_app: Any, fake_clock: FakeClock) -> None:
    runner = runner_for(make_app, fake_clock, zk3.targets(cluster="it"))
    report = await zk_inspect(runner)
    assert [f.check for f in report.findings if f.status is not OK] == []
    assert sorted(t.role or "" for t in report.targets) == ["follower", "follower", "leader"]
    (ens,) = report.ensembles
    assert (ens.size, ens.serving, ens.quorum, ens.status) == (3, 3, 2, OK)
    assert "3 个成员全部在服务" in report.render("zh")


async def test_one_member_stopped_is_its_process_and_the_ensemble_keeps_quorum(
        zk3: ZkCluster, make_app: Any, fake_clock: FakeClock) -> None:
    leader = next(n for n in zk3.nodes if n.mode() == "leader")
    zk3.stop(leader.myid)
    survivors = [n.myid for n in zk3.nodes if n is not leader]
    zk3.wait_leader(survivors)  # a new leader is elected among the two
    runner = runner_for(make_app, fake_clock, zk3.targets(cluster="it"))
    report = await zk_inspect(runner)

    dead = f"zk{leader.myid}"
    port = findings_of(report, dead)["zookeeper.port"]
    assert port.status is CRIT and port.layer == "process" and "not listening" in port.summary
    by = {t.target: t for t in report.targets}
    assert by[dead].layer == "process" and by[dead].status is CRIT and by[dead].serving is False
    for myid in survivors:
        assert by[f"zk{myid}"].layer is None and by[f"zk{myid}"].status is OK, by[f"zk{myid}"]
        seen = findings_of(report, f"zk{myid}")["zookeeper.ensemble"]
        assert seen.status is WARN and seen.layer == "quorum" and seen.metrics["serving_members"] == 2
    (ens,) = report.ensembles
    assert (ens.serving, ens.size, ens.quorum_lost, ens.status) == (2, 3, False, WARN)
    assert report.status is WARN
    assert "故障层：进程" in report.render("zh") and "quorum held" in report.render("en")
    fired = [a for a in alerts(runner) if a.labels["alertname"] == "zookeeper.port"]
    assert fired and fired[0].labels["cluster"] == "it" and fired[0].labels["severity"] == "critical"
    assert fired[0].annotations["layer"] == "process"


async def test_quorum_lost_is_the_quorum_layer_on_the_survivor(zk3: ZkCluster, make_app: Any,
                                                               fake_clock: FakeClock) -> None:
    survivor, crashed, stopped = zk3.nodes
    zk3.kill(crashed.myid)  # a crash
    zk3.stop(stopped.myid)  # an orderly stop
    zk3.wait_not_serving(survivor.myid)
    runner = runner_for(make_app, fake_clock, zk3.targets(cluster="it"))
    report = await zk_inspect(runner)

    mine = findings_of(report, "zk1")
    assert mine["zookeeper.quorum"].status is CRIT and mine["zookeeper.quorum"].layer == "quorum"
    assert "not currently serving" in mine["zookeeper.quorum"].summary
    assert mine["zookeeper.ruok"].status is OK  # imok although useless: why ruok alone is not enough
    assert mine["zookeeper.port"].status is OK
    by = {t.target: t for t in report.targets}
    assert by["zk1"].layer == "quorum" and by["zk1"].status is CRIT
    assert by["zk2"].layer == by["zk3"].layer == "process"
    (ens,) = report.ensembles
    assert ens.quorum_lost and ens.status is CRIT and ens.serving == 0
    assert report.status is CRIT
    assert "法定人数丢失" in report.render("zh")

    one = await zk_inspect(runner, survivor.address)  # zk检测 <address>
    assert [t.target for t in one.targets] == ["zk1"] and one.targets[0].layer == "quorum"
    assert one.ensembles[0].partial and one.ensembles[0].size == 3 and one.status is CRIT


async def test_whitelist_restricted_is_config_not_down(make_app: Any, fake_clock: FakeClock) -> None:
    _need_zookeeper()
    with start_standalone(whitelist="srvr", admin=True) as zk:
        node = zk.nodes[0]
        plain = Target(name="zk-plain", kind="zookeeper", address=node.address)
        with_admin = Target(name="zk-admin", kind="zookeeper", address=node.address,
                            labels={"admin_port": str(node.admin_port)})
        runner = runner_for(make_app, fake_clock, [plain, with_admin])
        report = await zk_inspect(runner)

    mine = findings_of(report, "zk-plain")
    wl = mine["zookeeper.whitelist"]
    assert wl.status is WARN and wl.layer == "config"
    assert "ruok, mntr, conf" in wl.summary and any("not in the whitelist" in e.detail for e in wl.evidence)
    assert mine["zookeeper.port"].status is OK and mine["zookeeper.quorum"].status is OK
    assert not [f.check for f in mine.values() if f.layer in ("process", "network", "host", "quorum")]
    assert not [f.check for f in mine.values() if f.status is CRIT]
    by = {t.target: t for t in report.targets}
    assert (by["zk-plain"].layer, by["zk-plain"].status) == ("config", WARN)
    # the same server through the AdminServer: nothing is blind any more
    admin = findings_of(report, "zk-admin")
    assert [f.check for f in admin.values() if f.status is not OK] == []
    assert "AdminServer answers" in admin["zookeeper.whitelist"].summary
    assert admin["zookeeper.fds"].metrics["max_fds"] > 0
    assert by["zk-admin"].layer is None


async def test_data_dir_filled_past_the_threshold_is_the_disk(small_fs: Path, make_app: Any,
                                                              fake_clock: FakeClock) -> None:
    _need_zookeeper()
    with start_standalone(data_dir=small_fs) as zk:
        (target,) = zk.targets()
        with (small_fs / "ballast.bin").open("wb") as fh:
            fh.write(b"\0" * (19 * 1024 * 1024))  # ~95 % of the 20 MiB filesystem
        report = await zk_inspect(runner_for(make_app, fake_clock, [target]))
        lenient = target.model_copy(update={"name": "zk-lenient", "labels": {"disk_used_pct_crit": "99"}})
        relaxed = await zk_inspect(runner_for(make_app, fake_clock, [lenient]))

    disk = findings_of(report, "zk1")["zookeeper.disk"]
    assert disk.status is CRIT and disk.layer == "disk" and disk.metrics["data_dir_used_pct"] >= 90
    assert any(e.source.startswith(f"statvfs {small_fs}") for e in disk.evidence)
    (t,) = report.targets
    assert (t.layer, t.status) == ("disk", CRIT)
    assert "故障层：磁盘" in report.render("zh")
    assert findings_of(relaxed, "zk-lenient")["zookeeper.disk"].status is WARN
