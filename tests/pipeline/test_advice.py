"""Remedies from evidence and runbooks that match: each action says what it remedies; only the
runbooks the failing checks name are cited (searched in the real, shipped knowledge base)."""

from __future__ import annotations

import pytest

from steadyops.contracts.actions import Symptom
from steadyops.core.models import CheckStatus
from steadyops.integrations.host.actions import CleanLogs
from steadyops.integrations.host.service import ServiceRestart
from steadyops.integrations.zookeeper.actions import ZkPurge
from steadyops.knowledge import KnowledgeBase
from steadyops.pipeline.advice import Failing, explaining, matching_runbooks, remedies
from steadyops.plugins import load_plugins

CRIT, WARN, UNKNOWN = CheckStatus.CRITICAL, CheckStatus.WARNING, CheckStatus.UNKNOWN


def test_purge_only_on_definite_disk_evidence_never_on_unknown_or_read_only() -> None:
    assert ZkPurge.can_remedy(Symptom("zookeeper.disk", "zookeeper", CRIT, "disk"))
    assert not ZkPurge.can_remedy(Symptom("zookeeper.disk", "zookeeper", UNKNOWN, "process"))
    assert not ZkPurge.can_remedy(Symptom("zookeeper.disk", "zookeeper", UNKNOWN, "disk"))
    assert not ZkPurge.can_remedy(Symptom("zookeeper.disk", "zookeeper", CRIT, "disk", metrics={"read_only": 1.0}))
    assert CleanLogs.can_remedy(Symptom("host.disk", "host", WARN, "disk"))
    assert not CleanLogs.can_remedy(Symptom("host.disk", "zookeeper", WARN, "disk"))


def test_restart_for_a_dead_or_hung_process_only() -> None:
    assert ServiceRestart.can_remedy(Symptom("zookeeper.ruok", "zookeeper", CRIT, "process", liveness=True))
    assert not ServiceRestart.can_remedy(Symptom("redis.ping", "redis", CRIT, "capacity", liveness=True))
    assert not ServiceRestart.can_remedy(Symptom("mysql.deadlocks", "mysql", CRIT, "process"))  # not liveness
    assert not ServiceRestart.can_remedy(Symptom("zookeeper.ruok", "zookeeper", UNKNOWN, "process", liveness=True))
    assert not ServiceRestart.can_remedy(Symptom("http_probe.status", "http_probe", WARN, "process", liveness=True))


def test_the_lowest_failing_layer_explains_the_rest() -> None:
    disk = Failing("zookeeper.disk", "zookeeper", CRIT, "disk", "read-only", metrics={"read_only": 1.0})
    port = Failing("zookeeper.port", "zookeeper", CRIT, "process", "refused")
    assert explaining([port, disk]) == [disk]
    reg = load_plugins(entry_points_too=False)
    # the disk explains the dead JVM; purge refuses a read-only disk; so nothing fits and nothing is proposed
    assert remedies(reg, "zk-1", [port, disk], 0.9, liveness=lambda name: True) == []
    proposed = remedies(reg, "zk-1", [port], 0.9, liveness=lambda name: name == "zookeeper.port")
    assert [p["action"] for p in proposed] == ["service.restart"]
    assert proposed[0]["params"] == {"health_check": "zookeeper.port"}  # checked before and after the restart
    unknown = Failing("zookeeper.disk", "zookeeper", UNKNOWN, "process", "cannot tell where dataDir is")
    assert remedies(reg, "zk-1", [unknown], 0.9) == []


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.builtin()


@pytest.mark.parametrize(("failing", "must", "never"), [
    # a full host disk must not cite "GPU memory full"
    (Failing("host.disk", "host", CRIT, "disk", "/var 97% used, disk full"), "host-disk-full", "gpu"),
    # a stopped Redis must not cite "nginx down"
    (Failing("redis.ping", "redis", CRIT, "process", "connection refused: redis-server down"), "host-service-down",
     "nginx"),
    # a hung HTTPS app must not cite TLS expiry
    (Failing("http_probe.status", "http_probe", CRIT, "process", "connected, but no answer (TLS site)"),
     "http-probe-status", "tls-expiry"),
    # nginx answering 502: its 5xx runbook, not "nginx down"
    (Failing("nginx.http", "nginx", CRIT, "upstream", "answered HTTP 502 nginx down?"), "nginx-5xx", "nginx-down"),
    # a read-only ZooKeeper data disk: the failing-storage runbook, not snapshot clean-up
    (Failing("zookeeper.disk", "zookeeper", CRIT, "disk", "dataDir on a read-only filesystem",
             metrics={"read_only": 1.0}), "host-readonly-fs", "zk-disk-cleanup"),
    (Failing("host.readonly", "host", CRIT, "disk", "read-only: /data"), "host-readonly-fs", "host-disk-full"),
    # Redis at maxclients: rejected connections, not "service down"
    (Failing("redis.ping", "redis", CRIT, "capacity", "max number of clients reached"), "redis-rejected",
     "host-service-down"),
])
def test_only_the_runbooks_the_failing_checks_name_are_cited(kb: KnowledgeBase, failing: Failing, must: str,
                                                             never: str) -> None:
    reg = load_plugins(entry_points_too=False)
    cited = matching_runbooks(lambda q, k, lang: kb.search(q, k, lang=lang), reg, [failing],
                              f"{failing.check} {failing.summary} GPU memory full nginx down TLS expiry", "en")
    sources = [c["source"] for c in cited]
    assert sources and all(must in s for s in sources), sources
    assert not any(never in s for s in sources)


def test_nothing_is_cited_when_no_failing_check_names_a_runbook(kb: KnowledgeBase) -> None:
    reg = load_plugins(entry_points_too=False)
    unknown = Failing("host.disk", "host", UNKNOWN, "network", "cannot reach the host")
    assert matching_runbooks(lambda q, k, lang: kb.search(q, k, lang=lang), reg, [unknown], "disk full", "en") == []
