"""The per-server ZooKeeper checks: reachable, healthy, in quorum, not overloaded, not out of fds.

Each class answers one question so a finding names exactly what is wrong and the runner can time
and alert each separately. Thresholds are defaults an operator overrides per target with labels
(``outstanding_warn: "50"``), because a 5-node ensemble behind Kafka and a tiny config store have
very different normals. Storage (dataDir / dataLogDir) lives in :mod:`.storage`, the ensemble view
in :mod:`.ensemble`.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from steadyops.contracts.checks import grade, label_float
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.zookeeper.base import ZkCheck, fetch_mode, fetch_stats, stat_evidence, unanswered
from steadyops.integrations.zookeeper.client import Outcome
from steadyops.integrations.zookeeper.parse import SERVING_MODES, number

RB_DOWN = "zookeeper/zk-health-check.en.md"
RB_QUORUM = "zookeeper/zk-quorum-lost.en.md"
RB_WHITELIST = "zookeeper/zk-health-check.en.md"
RB_LOAD = "zookeeper/zk-latency-outstanding.en.md"
RB_FD = "zookeeper/zk-connections-fd.en.md"

#: the words the checks rely on; cons is only needed by the collector
REQUIRED_WORDS = ("ruok", "srvr", "mntr", "conf")
OPTIONAL_WORDS = ("cons",)


class PortCheck(ZkCheck):
    """Is anything listening on the client port? Separates a dead process from a dead network."""

    name: ClassVar[str] = "zookeeper.port"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_DOWN

    async def run(self, target: Target) -> CheckResult:
        answer = await self.client(target).connect()
        metrics = {"connect_ms": answer.elapsed_ms} if answer.ok else {}
        if answer.ok:
            return self.result(target, CheckStatus.OK, f"port open ({answer.elapsed_ms:g} ms to connect)",
                               [answer.evidence()], metrics=metrics)
        what = {"process": "ZooKeeper is not listening", "host": "the host is unreachable",
                "network": "the port cannot be reached"}.get(answer.layer, "the port cannot be reached")
        if answer.outcome is Outcome.STALLED:
            what = "ZooKeeper listens but accepts no connections (hung)"
        return self.result(target, CheckStatus.CRITICAL, f"{what}: {answer.describe()}", [answer.evidence()],
                           layer=answer.layer or "network")


class RuokCheck(ZkCheck):
    """``ruok`` → ``imok``: the server runs in a non-error state (it says imok even without quorum)."""

    name: ClassVar[str] = "zookeeper.ruok"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_DOWN

    async def run(self, target: Target) -> CheckResult:
        answer = await self.client(target).ask("ruok")
        if answer.ok and (answer.via == "admin" or answer.text.strip() == "imok"):
            return self.result(target, CheckStatus.OK, "imok", [answer.evidence()],
                               metrics={"ruok_ms": answer.elapsed_ms})
        if answer.ok:
            return self.result(target, CheckStatus.CRITICAL, f"ruok answered {answer.text.strip()[:80]!r}, not imok",
                               [answer.evidence()], layer="process")
        if answer.outcome in (Outcome.STALLED, Outcome.EMPTY):
            return self.result(target, CheckStatus.CRITICAL, f"no imok: {answer.describe()}", [answer.evidence()],
                               layer="process")
        return unanswered(target, answer, "whether the server is ok")


class WhitelistCheck(ZkCheck):
    """Which four-letter words the server refuses: a blind inspection is a config problem, not "down"."""

    name: ClassVar[str] = "zookeeper.whitelist"
    runbook: ClassVar[str | None] = RB_WHITELIST

    async def run(self, target: Target) -> CheckResult:
        client = self.client(target)
        words = (*REQUIRED_WORDS, *OPTIONAL_WORDS)
        answers = await asyncio.gather(*(client.ask(w, fallback=False) for w in words))
        asked = dict(zip(words, answers, strict=True))
        unreachable = [a for a in answers if a.outcome not in (Outcome.OK, Outcome.NOT_WHITELISTED,
                                                               Outcome.NOT_SERVING)]
        if len(unreachable) == len(answers):
            return unanswered(target, unreachable[0], "which four-letter words are allowed")
        refused = [w for w, a in asked.items() if a.outcome is Outcome.NOT_WHITELISTED]
        evidence = [asked[w].evidence(200) for w in refused] or [asked["srvr"].evidence(200)]
        metrics = {"refused_words": float(len(refused))}
        if not refused:
            return self.result(target, CheckStatus.OK, f"all of {', '.join(words)} allowed", evidence,
                               metrics=metrics)
        blind = [w for w in refused if w in REQUIRED_WORDS]
        if not blind:
            return self.result(target, CheckStatus.OK, f"{', '.join(refused)} refused (only the collector needs it)",
                               evidence, metrics=metrics)
        if client.admin_port is not None:
            probe = await client.ask(blind[0])
            if probe.via == "admin" and probe.outcome in (Outcome.OK, Outcome.NOT_SERVING):
                return self.result(target, CheckStatus.OK,
                                   f"4lw.commands.whitelist refuses {', '.join(refused)}; the AdminServer answers "
                                   "instead", [*evidence, probe.evidence(200)], metrics=metrics)
        return self.result(
            target, CheckStatus.WARNING,
            f"4lw.commands.whitelist refuses {', '.join(refused)}: the server is up but these checks are blind; "
            "allow them (4lw.commands.whitelist=" + ",".join(sorted({*REQUIRED_WORDS, *OPTIONAL_WORDS})) +
            ") or set the label admin_port",
            evidence, layer="config", metrics=metrics)


class QuorumCheck(ZkCheck):
    """The server's role: leader / follower / standalone serve; "not currently serving" lost quorum."""

    name: ClassVar[str] = "zookeeper.quorum"
    runbook: ClassVar[str | None] = RB_QUORUM

    async def run(self, target: Target) -> CheckResult:
        mode, answer = await fetch_mode(self.client(target))
        if answer.outcome is Outcome.NOT_SERVING:
            return self.result(target, CheckStatus.CRITICAL,
                               "not currently serving requests: this member is outside a quorum (looking for a "
                               "leader)", [answer.evidence()], layer="quorum", metrics={"serving": 0.0})
        if mode is None:
            return unanswered(target, answer, "the quorum role")
        ev = [Evidence(source="mode", detail=mode, value=mode), answer.evidence(300)]
        if mode == "read-only":
            return self.result(target, CheckStatus.WARNING, "read-only mode: partitioned from the quorum, "
                               "serving reads only", ev, layer="quorum", metrics={"serving": 0.0})
        if mode not in SERVING_MODES:
            return self.result(target, CheckStatus.CRITICAL, f"unexpected mode {mode!r}", ev, layer="quorum",
                               metrics={"serving": 0.0})
        cluster = target.labels.get("cluster")
        if mode == "standalone" and cluster and target.labels.get("standalone") != "true":
            return self.result(target, CheckStatus.WARNING,
                               f"runs standalone although it is listed in cluster {cluster!r} (no server.N lines?)",
                               ev, layer="config", metrics={"serving": 1.0})
        expected = target.labels.get("expect_mode")
        if expected and expected != mode:
            return self.result(target, CheckStatus.WARNING, f"role {mode}, expected {expected}", ev,
                               layer="quorum", metrics={"serving": 1.0})
        return self.result(target, CheckStatus.OK, f"role {mode}", ev,
                           metrics={"serving": 1.0, "leader": 1.0 if mode == "leader" else 0.0})


class _StatCheck(ZkCheck):
    """A check judging mntr values; subclasses name the keys and the verdict."""

    keys: ClassVar[tuple[str, ...]] = ()
    what: ClassVar[str] = ""

    async def run(self, target: Target) -> CheckResult:
        stats, answer = await fetch_stats(self.client(target))
        if stats is None:
            return unanswered(target, answer, self.what)
        if not any(k in stats for k in self.keys):
            note = " (only srvr is allowed; it does not report this)" if stats.get("_source") == "srvr" else ""
            return self.result(target, CheckStatus.UNKNOWN, f"cannot tell {self.what}: not reported{note}",
                               [stat_evidence(answer, stats, self.keys)],
                               layer="config" if note else "")
        return self.judge(target, stats, [stat_evidence(answer, stats, self.keys)])

    def judge(self, target: Target, stats: dict[str, str], evidence: list[Evidence]) -> CheckResult:
        raise NotImplementedError


class OutstandingCheck(_StatCheck):
    """Queued requests: the first sign of a server that cannot keep up (slow fsync, GC, overload)."""

    name: ClassVar[str] = "zookeeper.outstanding"
    runbook: ClassVar[str | None] = RB_LOAD
    keys: ClassVar[tuple[str, ...]] = ("zk_outstanding_requests",)
    what: ClassVar[str] = "outstanding requests"

    def judge(self, target: Target, stats: dict[str, str], evidence: list[Evidence]) -> CheckResult:
        value = number(stats, "zk_outstanding_requests") or 0.0
        warn, crit = label_float(target, "outstanding_warn", 10), label_float(target, "outstanding_crit", 100)
        status = grade(value, warn, crit)
        return self.result(target, status, f"{value:g} outstanding requests (warn ≥ {warn:g}, crit ≥ {crit:g})",
                           evidence, layer="load", metrics={"outstanding_requests": value})


class LatencyCheck(_StatCheck):
    """Average and max request latency in ms; avg is the signal, max (sticky since reset) only warns."""

    name: ClassVar[str] = "zookeeper.latency"
    runbook: ClassVar[str | None] = RB_LOAD
    keys: ClassVar[tuple[str, ...]] = ("zk_avg_latency", "zk_max_latency", "zk_min_latency")
    what: ClassVar[str] = "request latency"

    def judge(self, target: Target, stats: dict[str, str], evidence: list[Evidence]) -> CheckResult:
        avg = number(stats, "zk_avg_latency") or 0.0
        peak = number(stats, "zk_max_latency") or 0.0
        warn, crit = label_float(target, "latency_avg_warn_ms", 100), label_float(target, "latency_avg_crit_ms", 500)
        status = grade(avg, warn, crit)
        if status is CheckStatus.OK and peak >= label_float(target, "latency_max_warn_ms", 2000):
            status = CheckStatus.WARNING
        return self.result(target, status, f"latency avg {avg:g} ms, max {peak:g} ms", evidence, layer="load",
                           metrics={"avg_latency_ms": avg, "max_latency_ms": peak})


class ZnodeCheck(_StatCheck):
    """Znode count and data size: a runaway client creating nodes eventually breaks snapshots and GC."""

    name: ClassVar[str] = "zookeeper.znodes"
    runbook: ClassVar[str | None] = RB_LOAD
    keys: ClassVar[tuple[str, ...]] = ("zk_znode_count", "zk_approximate_data_size")
    what: ClassVar[str] = "the znode count"

    def judge(self, target: Target, stats: dict[str, str], evidence: list[Evidence]) -> CheckResult:
        count = number(stats, "zk_znode_count") or 0.0
        size = number(stats, "zk_approximate_data_size") or 0.0
        status = grade(count, label_float(target, "znode_warn", 1_000_000),
                       label_float(target, "znode_crit", 5_000_000))
        size_mb = size / 1048576
        if size_mb >= label_float(target, "data_size_warn_mb", 1024) and status is CheckStatus.OK:
            status = CheckStatus.WARNING
        return self.result(target, status, f"{count:g} znodes, ~{size_mb:.1f} MiB of data", evidence, layer="load",
                           metrics={"znode_count": count, "approximate_data_size": size})


class WatchCheck(_StatCheck):
    """Watches held: millions of watches cost memory and make every change fan out slowly."""

    name: ClassVar[str] = "zookeeper.watches"
    runbook: ClassVar[str | None] = RB_LOAD
    keys: ClassVar[tuple[str, ...]] = ("zk_watch_count",)
    what: ClassVar[str] = "the watch count"

    def judge(self, target: Target, stats: dict[str, str], evidence: list[Evidence]) -> CheckResult:
        value = number(stats, "zk_watch_count") or 0.0
        status = grade(value, label_float(target, "watch_warn", 1_000_000),
                       label_float(target, "watch_crit", 5_000_000))
        return self.result(target, status, f"{value:g} watches", evidence, layer="load",
                           metrics={"watch_count": value})


class FdCheck(_StatCheck):
    """Open vs max file descriptors: at the limit the server cannot accept clients or open txn logs."""

    name: ClassVar[str] = "zookeeper.fds"
    runbook: ClassVar[str | None] = RB_FD
    keys: ClassVar[tuple[str, ...]] = ("zk_open_file_descriptor_count", "zk_max_file_descriptor_count")
    what: ClassVar[str] = "file descriptor use"

    def judge(self, target: Target, stats: dict[str, str], evidence: list[Evidence]) -> CheckResult:
        used = number(stats, "zk_open_file_descriptor_count")
        limit = number(stats, "zk_max_file_descriptor_count")
        if used is None or not limit:
            return self.result(target, CheckStatus.UNKNOWN, "file descriptor counts not reported (non-Unix JVM?)",
                               evidence)
        pct = used / limit * 100
        status = grade(pct, label_float(target, "fd_used_pct_warn", 80), label_float(target, "fd_used_pct_crit", 90))
        return self.result(target, status, f"{used:g} of {limit:g} file descriptors open ({pct:.1f}%)", evidence,
                           layer="process", metrics={"open_fds": used, "max_fds": limit, "fd_used_pct": round(pct, 2)})


CHECKS: tuple[type[ZkCheck], ...] = (PortCheck, RuokCheck, WhitelistCheck, QuorumCheck, OutstandingCheck,
                                     LatencyCheck, ZnodeCheck, WatchCheck, FdCheck)
