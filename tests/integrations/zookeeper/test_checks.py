"""Check verdicts and layers against a scripted 4lw server replaying real ZooKeeper 3.8 answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steadyops.contracts.checks import Check
from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.zookeeper import CHECKS, register
from steadyops.integrations.zookeeper.checks import (
    FdCheck,
    LatencyCheck,
    OutstandingCheck,
    PortCheck,
    QuorumCheck,
    RuokCheck,
    WatchCheck,
    WhitelistCheck,
    ZnodeCheck,
)
from steadyops.integrations.zookeeper.client import Answer, Outcome
from steadyops.integrations.zookeeper.collectors import ConfCollector, ConsCollector, MntrCollector
from steadyops.integrations.zookeeper.ensemble import EnsembleCheck, MemberState, judge_ensemble
from steadyops.plugins import Registry
from tests.harness.services import free_port

DATA = Path(__file__).parent / "data"
FakeFactory = Callable[[dict[str, str]], Any]


def sample(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def refused(word: str) -> str:
    return f"{word} is not executed because it is not in the whitelist.\n"


def target(address: str, **labels: str) -> Target:
    return Target(name="zk", kind="zookeeper", address=address, labels=labels)


def with_mntr(answers: dict[str, str], **values: str) -> dict[str, str]:
    text = answers["mntr"]
    for key, value in values.items():
        text = re.sub(rf"^{key}\t.*$", f"{key}\t{value}", text, flags=re.M)
    return {**answers, "mntr": text}


def test_register_adds_every_check_and_collector_documented() -> None:
    reg = Registry()
    register(reg)
    assert len(reg.checks_for("zookeeper")) == len(CHECKS) == 12
    assert reg.collectors.names() == ["zookeeper.conf", "zookeeper.cons", "zookeeper.mntr"]
    for name in reg.checks.names():
        cls: type[Check] = reg.checks.get(name)
        assert name.startswith("zookeeper.") and cls.target_kind == "zookeeper"
        assert cls.runbook and cls.runbook.startswith("zookeeper/") and cls.runbook.endswith(".en.md")
        assert cls.__doc__ and cls.timeout >= 5


async def test_healthy_standalone_is_ok_everywhere(fake_zk: FakeFactory, standalone_answers: dict[str, str],
                                                   tmp_path: Path) -> None:
    data = tmp_path / "version-2"
    data.mkdir()
    (data / "snapshot.0").write_bytes(b"x" * 100)
    answers = {**standalone_answers, "conf": re.sub(r"(dataDir|dataLogDir)=.*", rf"\1={data}",
                                                    standalone_answers["conf"])}
    async with fake_zk(answers) as zk:
        for cls in CHECKS:
            result = await cls().run(target(zk.address))
            assert result.status is CheckStatus.OK, (cls.name, result.summary)
            assert result.layer == "" and result.evidence, cls.name


async def test_closed_port_is_the_process_and_nothing_else_claims_ok() -> None:
    t = target(f"127.0.0.1:{free_port()}", cluster="c1")
    port = await PortCheck().run(t)
    assert port.status is CheckStatus.CRITICAL and port.layer == "process"
    assert "not listening" in port.summary and port.labels == {"cluster": "c1"}
    for cls in CHECKS:
        if cls is PortCheck:
            continue
        result = await cls().run(t)
        assert result.status is CheckStatus.UNKNOWN and result.layer == "process", cls.name


async def test_a_hung_server_that_accepts_but_never_answers_is_the_process(fake_zk: FakeFactory) -> None:
    async with fake_zk({"ruok": "__stall__"}) as zk:
        result = await RuokCheck().run(target(zk.address, timeout="0.3"))
    assert result.status is CheckStatus.CRITICAL and result.layer == "process"
    assert "no answer in time" in result.summary


async def test_ruok_answering_something_else_is_critical(fake_zk: FakeFactory) -> None:
    async with fake_zk({"ruok": "huh"}) as zk:
        result = await RuokCheck().run(target(zk.address))
    assert result.status is CheckStatus.CRITICAL and "'huh'" in result.summary


async def test_whitelist_refusal_is_config_not_down(fake_zk: FakeFactory, standalone_answers: dict[str, str]) -> None:
    answers = {w: refused(w) for w in ("ruok", "mntr", "conf", "cons")}
    answers["srvr"] = standalone_answers["srvr"]
    async with fake_zk(answers) as zk:
        t = target(zk.address)
        wl = await WhitelistCheck().run(t)
        assert wl.status is CheckStatus.WARNING and wl.layer == "config"
        assert "ruok, mntr, conf, cons" in wl.summary and "admin_port" in wl.summary
        assert any("not in the whitelist" in e.detail for e in wl.evidence)
        ruok = await RuokCheck().run(t)
        assert ruok.status is CheckStatus.UNKNOWN and ruok.layer == "config"
        # srvr still answers: role, latency, outstanding and znodes are judged from it
        for cls in (QuorumCheck, OutstandingCheck, LatencyCheck, ZnodeCheck):
            assert (await cls().run(t)).status is CheckStatus.OK, cls.name
        for blind_check in (WatchCheck, FdCheck):
            blind = await blind_check().run(t)
            assert blind.status is CheckStatus.UNKNOWN and blind.layer == "config"
        assert (await EnsembleCheck().run(t)).status is CheckStatus.OK  # standalone per srvr


async def test_only_cons_refused_is_fine(fake_zk: FakeFactory, standalone_answers: dict[str, str]) -> None:
    async with fake_zk({**standalone_answers, "cons": refused("cons")}) as zk:
        result = await WhitelistCheck().run(target(zk.address))
    assert result.status is CheckStatus.OK and "cons refused" in result.summary


async def test_not_serving_is_quorum_critical_even_though_ruok_says_imok(fake_zk: FakeFactory) -> None:
    not_serving = sample("srvr_not_serving.txt")
    answers = {"ruok": "imok", **{w: not_serving for w in ("srvr", "mntr", "conf", "cons", "stat")}}
    async with fake_zk(answers) as zk:
        t = target(zk.address)
        assert (await RuokCheck().run(t)).status is CheckStatus.OK
        quorum = await QuorumCheck().run(t)
        assert quorum.status is CheckStatus.CRITICAL and quorum.layer == "quorum"
        assert quorum.metrics["serving"] == 0
        latency = await LatencyCheck().run(t)
        assert latency.status is CheckStatus.UNKNOWN and latency.layer == "quorum"


@pytest.mark.parametrize(("value", "labels", "status"), [
    ("0", {}, CheckStatus.OK), ("50", {}, CheckStatus.WARNING), ("150", {}, CheckStatus.CRITICAL),
    ("50", {"outstanding_warn": "60"}, CheckStatus.OK), ("50", {"outstanding_warn": "junk"}, CheckStatus.WARNING),
])
async def test_outstanding_thresholds_and_label_overrides(fake_zk: FakeFactory, standalone_answers: dict[str, str],
                                                          value: str, labels: dict[str, str],
                                                          status: CheckStatus) -> None:
    async with fake_zk(with_mntr(standalone_answers, zk_outstanding_requests=value)) as zk:
        result = await OutstandingCheck().run(target(zk.address, **labels))
    assert result.status is status and result.metrics["outstanding_requests"] == float(value)
    assert result.layer == ("load" if status.failing else "")
    assert "mntr @" in result.evidence[0].source and f"zk_outstanding_requests={value}" in result.evidence[0].detail


async def test_fds_latency_watches_znodes(fake_zk: FakeFactory, standalone_answers: dict[str, str]) -> None:
    answers = with_mntr(standalone_answers, zk_open_file_descriptor_count="18500", zk_avg_latency="150.5",
                        zk_watch_count="1200000", zk_znode_count="6000000")
    async with fake_zk(answers) as zk:
        t = target(zk.address)
        fds = await FdCheck().run(t)
        assert fds.status is CheckStatus.CRITICAL and fds.layer == "process" and fds.metrics["fd_used_pct"] == 92.5
        latency = await LatencyCheck().run(t)
        assert latency.status is CheckStatus.WARNING and latency.metrics["avg_latency_ms"] == 150.5
        assert (await WatchCheck().run(t)).status is CheckStatus.WARNING
        assert (await ZnodeCheck().run(t)).status is CheckStatus.CRITICAL


@pytest.mark.parametrize(("mode", "labels", "status", "layer"), [
    ("read-only", {}, CheckStatus.WARNING, "quorum"),
    ("standalone", {"cluster": "c1"}, CheckStatus.WARNING, "config"),
    ("follower", {"expect_mode": "leader"}, CheckStatus.WARNING, "quorum"),
    ("leader", {"cluster": "c1"}, CheckStatus.OK, ""),
])
async def test_quorum_roles(fake_zk: FakeFactory, standalone_answers: dict[str, str], mode: str,
                            labels: dict[str, str], status: CheckStatus, layer: str) -> None:
    srvr = standalone_answers["srvr"].replace("Mode: standalone", f"Mode: {mode}")
    async with fake_zk({"srvr": srvr}) as zk:
        result = await QuorumCheck().run(target(zk.address, **labels))
    assert (result.status, result.layer) == (status, layer)
    assert result.evidence[0].source == "mode" and result.evidence[0].value == mode


def _state(mode: str | None, voting: bool = True) -> MemberState:
    return MemberState("h:1", voting, mode, Answer("srvr", "h:1", Outcome.OK))


@pytest.mark.parametrize(("modes", "status", "serving", "need"), [
    (["leader", "follower", "follower"], CheckStatus.OK, 3, 2),
    (["leader", "follower", None], CheckStatus.WARNING, 2, 2),
    (["leader", None, None], CheckStatus.CRITICAL, 1, 2),
    ([None, None, None], CheckStatus.CRITICAL, 0, 2),
    (["leader", "follower", "follower", None, None], CheckStatus.WARNING, 3, 3),
    (["leader", "follower"], CheckStatus.OK, 2, 2),
    (["leader", None], CheckStatus.CRITICAL, 1, 2),  # why even ensembles buy nothing
    (["leader", "leader", "follower"], CheckStatus.CRITICAL, 3, 2),
])
def test_ensemble_arithmetic(modes: list[str | None], status: CheckStatus, serving: int, need: int) -> None:
    got, summary, metrics = judge_ensemble([_state(m) for m in modes])
    assert got is status, summary
    assert (metrics["serving_members"], metrics["quorum_size"]) == (serving, need)


def test_observers_do_not_count_toward_quorum() -> None:
    states = [_state("leader"), _state("follower"), _state(None), _state("observer", voting=False)]
    status, _summary, metrics = judge_ensemble(states)
    assert status is CheckStatus.WARNING and metrics["ensemble_size"] == 3


async def test_ensemble_from_conf_membership(fake_zk: FakeFactory, standalone_answers: dict[str, str]) -> None:
    srvr = standalone_answers["srvr"]
    async with fake_zk({"srvr": srvr.replace("standalone", "leader")}) as a, \
            fake_zk({"srvr": srvr.replace("standalone", "follower")}) as b, \
            fake_zk({"srvr": sample("srvr_not_serving.txt")}) as c:
        servers = [a, b, c]
        membership = "".join(f"server.{i}=127.0.0.1:{2000 + i}:{3000 + i}:participant;127.0.0.1:{s.port}\n"
                             for i, s in enumerate(servers, 1))
        a.answers["conf"] = "clientPort=1\nmembership: \n" + membership + "version=0\n"
        result = await EnsembleCheck().run(target(a.address, cluster="c1"))
        assert result.status is CheckStatus.WARNING and result.layer == "quorum"
        assert result.metrics["serving_members"] == 2 and result.metrics["ensemble_size"] == 3
        assert c.address in result.summary and result.labels == {"cluster": "c1"}
        b.answers["srvr"] = sample("srvr_not_serving.txt")
        lost = await EnsembleCheck().run(target(a.address))
        assert lost.status is CheckStatus.CRITICAL and "quorum lost" in lost.summary


async def test_ensemble_from_members_label_works_when_this_member_is_down(fake_zk: FakeFactory,
                                                                          standalone_answers: dict[str, str]) -> None:
    srvr = standalone_answers["srvr"]
    dead = f"127.0.0.1:{free_port()}"
    async with fake_zk({"srvr": srvr.replace("standalone", "leader")}) as a, \
            fake_zk({"srvr": srvr.replace("standalone", "follower")}) as b:
        result = await EnsembleCheck().run(target(dead, members=f"{a.address},{b.address},{dead}"))
    assert result.status is CheckStatus.WARNING and result.metrics["serving_members"] == 2


async def test_collectors_snapshot_and_report_failure_as_data(fake_zk: FakeFactory,
                                                              standalone_answers: dict[str, str]) -> None:
    async with fake_zk({**standalone_answers, "cons": refused("cons")}) as zk:
        t = target(zk.address)
        mntr = await MntrCollector().collect(t)
        assert mntr.data["ok"] and mntr.data["values"]["zk_server_state"] == "standalone"
        assert mntr.data["values"]["zk_znode_count"] == 5 and mntr.collector == "zookeeper.mntr"
        conf = await ConfCollector().collect(t)
        assert conf.data["values"]["clientPort"] and conf.data["members"] == []
        cons = await ConsCollector().collect(t)
        assert cons.data["ok"] is False and cons.data["outcome"] == "not_whitelisted"
        assert "whitelist" in cons.data["error"]
    for collector in (MntrCollector, ConfCollector, ConsCollector):
        assert collector.description and collector.target_kind == "zookeeper"
