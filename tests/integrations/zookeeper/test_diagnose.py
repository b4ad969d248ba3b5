"""zk检测 localisation: layer precedence, ensemble verdicts, host findings, rendering, zk_inspect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckStatus, Evidence, Finding
from steadyops.integrations.zookeeper import register
from steadyops.integrations.zookeeper.diagnose import diagnose_target, localise, render, zk_inspect
from steadyops.integrations.zookeeper.messages import MESSAGES, msg
from steadyops.plugins import Registry
from steadyops.runner.checks import CheckRunner
from tests.harness.services import free_port

OK, WARN, CRIT, UNK = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FakeFactory = Callable[[dict[str, str]], Any]


def f(check: str, status: CheckStatus, layer: str = "", target: str = "zk1", kind: str = "zookeeper",
      metrics: dict[str, float] | None = None, cluster: str | None = None, mode: str | None = None) -> Finding:
    evidence = [Evidence(source=f"{check} evidence", detail=f"{check} said {status.value}")]
    if mode:
        evidence.insert(0, Evidence(source="mode", detail=mode, value=mode))
    return Finding(check=f"zookeeper.{check}" if kind == "zookeeper" else check, target=target, target_kind=kind,
                   status=status, summary=f"{check} is {status.value}", evidence=evidence, metrics=metrics or {},
                   layer=layer if status.failing else "", labels={"cluster": cluster} if cluster else {},
                   runbook=f"zookeeper/{check}.en.md", started_at=T0)


def healthy(target: str, mode: str = "follower", cluster: str | None = "c1") -> list[Finding]:
    return [f("port", OK, target=target, cluster=cluster),
            f("quorum", OK, target=target, cluster=cluster, mode=mode, metrics={"serving": 1}),
            f("ensemble", OK, target=target, cluster=cluster,
              metrics={"ensemble_size": 3, "serving_members": 3})]


def down(target: str, cluster: str | None = "c1") -> list[Finding]:
    return [f("port", CRIT, "process", target=target, cluster=cluster),
            f("quorum", UNK, "process", target=target, cluster=cluster),
            f("ruok", UNK, "process", target=target, cluster=cluster),
            f("ensemble", UNK, "process", target=target, cluster=cluster)]


def test_lower_layers_explain_higher_ones() -> None:
    d = diagnose_target("zk1", [f("whitelist", WARN, "config"), f("quorum", UNK, "quorum"),
                                f("port", CRIT, "process"), f("disk", WARN, "disk")])
    assert d.layer == "process" and d.status is CRIT
    assert [lf.layer for lf in d.failures] == ["process", "quorum", "disk", "config"]
    assert d.failures[0].evidence[0].detail == "port said critical"


def test_a_critical_disk_explains_a_dead_or_hung_process() -> None:
    # read-only dataDir: the JVM cannot write its txn log and hangs or exits; the disk is the cause
    d = diagnose_target("zk1", [f("port", CRIT, "process"), f("ruok", CRIT, "process"),
                                f("disk", CRIT, "disk", metrics={"read_only": 1.0})])
    assert d.layer == "disk" and [lf.layer for lf in d.failures] == ["disk", "process"]
    # a disk that is only getting full does not explain a dead process
    assert diagnose_target("zk1", [f("port", CRIT, "process"), f("disk", WARN, "disk")]).layer == "process"


def test_a_definite_failure_beats_a_layer_that_only_could_not_ask() -> None:
    d = diagnose_target("zk1", [f("latency", UNK, "network"), f("disk", CRIT, "disk"), f("port", OK)])
    assert d.layer == "disk"
    assert [lf.layer for lf in d.failures] == ["disk", "network"]
    only_unknown = diagnose_target("zk1", [f("latency", UNK, "network"), f("fds", UNK, "")])
    assert only_unknown.layer == "network" and only_unknown.failures[-1].layer == "other"


def test_healthy_target_has_no_layer_and_a_role() -> None:
    d = diagnose_target("zk1", healthy("zk1", "leader"))
    assert d.layer is None and d.failures == [] and d.role == "leader" and d.serving is True


def test_unanswered_checks_are_counted_not_listed_as_causes() -> None:
    d = diagnose_target("zk2", down("zk2", cluster=None))
    primary = d.failures[0]
    assert primary.unanswered == 3 and primary.runbooks == ["zookeeper/port.en.md"]
    text = render(localise(down("zk2", cluster=None)), "en")
    assert "zookeeper.port: port is critical" in text and "3 more check(s)" in text
    assert "zookeeper.ruok" not in text


def test_one_member_down_degrades_the_ensemble_only() -> None:
    findings = healthy("zk1", "leader") + healthy("zk3") + down("zk2")
    for x in findings:  # what the survivors' ensemble check sees
        if x.check == "zookeeper.ensemble" and x.status is OK:
            x.status, x.layer, x.metrics = WARN, "quorum", {"ensemble_size": 3, "serving_members": 2}
    report = localise(findings)
    by = {t.target: t for t in report.targets}
    assert by["zk2"].layer == "process" and by["zk2"].serving is False
    for name in ("zk1", "zk3"):  # their ensemble WARNING is the cluster's, not theirs
        assert by[name].layer is None and by[name].status is OK and by[name].checks == 2
    (ens,) = report.ensembles
    assert (ens.size, ens.serving, ens.quorum, ens.quorum_lost) == (3, 2, 2, False)
    assert ens.status is WARN and ens.unwell == ["zk2"]
    assert report.status is WARN
    zh = render(report, "zh")
    assert "法定人数保持" in zh and "故障层：进程" in zh and "还能容忍 0 个故障" in zh
    assert "quorum held, 2 of 3" in render(report, "en")


def test_quorum_lost() -> None:
    survivor = [f("port", OK, cluster="c1"), f("ruok", OK, cluster="c1"),
                f("quorum", CRIT, "quorum", cluster="c1", metrics={"serving": 0}),
                f("latency", UNK, "quorum", cluster="c1"), f("ensemble", UNK, "quorum", cluster="c1")]
    report = localise(survivor + down("zk2") + down("zk3"))
    by = {t.target: t for t in report.targets}
    assert by["zk1"].layer == "quorum" and by["zk1"].serving is False
    assert by["zk2"].layer == by["zk3"].layer == "process"
    (ens,) = report.ensembles
    assert ens.quorum_lost and ens.status is CRIT and (ens.serving, ens.size) == (0, 3)
    assert report.status is CRIT
    assert "法定人数丢失" in render(report, "zh") and "QUORUM LOST" in render(report, "en")


def test_ensemble_size_from_the_check_when_the_inventory_lists_fewer_members() -> None:
    lone = [f("port", OK, cluster="big"), f("quorum", OK, cluster="big", mode="follower", metrics={"serving": 1}),
            f("ensemble", CRIT, "quorum", cluster="big", metrics={"ensemble_size": 5, "serving_members": 2})]
    (ens,) = localise(lone).ensembles
    assert (ens.size, ens.serving, ens.quorum, ens.quorum_lost) == (5, 2, 3, True)


def test_a_partial_view_judges_quorum_only_when_certain() -> None:
    survivor = [f("port", OK, cluster="c1"), f("quorum", CRIT, "quorum", cluster="c1", metrics={"serving": 0}),
                f("ensemble", UNK, "quorum", cluster="c1")]
    report = localise(survivor, cluster_sizes={"c1": 3})
    (ens,) = report.ensembles
    assert ens.partial and ens.status is UNK and not ens.quorum_lost and ens.size == 3
    assert report.status is CRIT  # the inspected member's own verdict still counts
    assert "仅检测了 3 个成员中的 1 个" in report.render("zh")
    one_up = localise(healthy("zk1", "leader")[:2], cluster_sizes={"c1": 3})
    assert one_up.ensembles[0].status is UNK  # 1 serving of 3, two unseen: could be either
    five = localise(down("zk1") + down("zk2") + down("zk3"), cluster_sizes={"c1": 5})
    assert five.ensembles[0].quorum_lost  # 0 serving + 2 unseen < 3: certainly lost


def test_runner_findings_without_labels_get_the_cluster_from_the_inventory() -> None:
    timeout = f("latency", UNK, "network", target="zk9")  # a runner timeout: no labels
    report = localise([timeout], clusters={"zk9": "c9"}, addresses={"zk9": "10.0.0.9:2181"})
    assert report.targets[0].cluster == "c9" and report.targets[0].address == "10.0.0.9:2181"
    assert report.ensembles[0].cluster == "c9"


def test_host_findings_on_the_same_machine_claim_the_host_layer_only_when_critical() -> None:
    findings = [*down("zk1", cluster=None), f("host.memory", CRIT, "host", target="box", kind="host"),
                f("host.disk", WARN, "disk", target="other", kind="host")]
    report = localise(findings, addresses={"zk1": "10.0.0.1:2181", "box": "10.0.0.1", "other": "10.0.0.2"})
    (t,) = report.targets
    assert t.layer == "host" and t.failures[1].layer == "process"
    warn_only = localise([*down("zk1", cluster=None), f("host.disk", WARN, "disk", target="box", kind="host")],
                         addresses={"zk1": "10.0.0.1:2181", "box": "10.0.0.1"})
    assert warn_only.targets[0].layer == "process"


def test_standalone_status_is_its_own_and_empty_report_renders() -> None:
    report = localise([f("whitelist", WARN, "config", cluster=None), f("port", OK)])
    assert report.ensembles == [] and report.status is WARN and report.targets[0].layer == "config"
    assert "故障层：配置" in render(report, "zh")
    empty = localise([], scope="10.9.9.9")
    assert empty.targets == [] and "10.9.9.9" in empty.render("en")


def test_every_message_has_both_languages() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == {"zh", "en"}, key
        assert set(_fields(entry["zh"])) == set(_fields(entry["en"])), key
    assert msg("no.such.key") == "no.such.key"


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


async def test_zk_inspect_runs_the_checks_through_the_runner(make_app: Any, fake_clock: FakeClock,
                                                             fake_zk: FakeFactory,
                                                             standalone_answers: dict[str, str]) -> None:
    reg = Registry()
    register(reg)
    async with fake_zk(standalone_answers) as zk:
        inv = Inventory([Target(name="zk-a", kind="zookeeper", address=zk.address, labels={"data_dir": "/nope"}),
                         Target(name="web", kind="host", address="10.1.1.1")])
        app = make_app()
        runner = CheckRunner(reg, inv, app.store, fake_clock)
        report = await zk_inspect(runner)
        assert [t.target for t in report.targets] == ["zk-a"] and report.run_id is not None
        assert len(report.findings) == 12 and report.targets[0].role == "standalone"
        by_host = await zk_inspect(runner, "127.0.0.1")
        assert [t.target for t in by_host.targets] == ["zk-a"]
        ad_hoc = await zk_inspect(runner, f"127.0.0.1:{free_port()}")  # not in the inventory, nothing there
        assert ad_hoc.targets[0].layer == "process" and ad_hoc.status is CRIT and ad_hoc.run_id is None
        assert (await zk_inspect(Runnerless(runner), None)).targets == []


class Runnerless(CheckRunner):
    """A runner over an inventory without ZooKeeper targets."""

    def __init__(self, runner: CheckRunner) -> None:
        super().__init__(runner.registry, Inventory([]), runner.store, runner.clock)
