"""What every ZooKeeper check shares: asking with fallbacks, uniform results.

Keeping this in one place is what makes the checks consistent for localisation: a question that
could not be answered always becomes ``UNKNOWN`` with the layer its :class:`~.client.Outcome`
points at (refused → process, timeout → network, whitelist → config, not serving → quorum), so
``zk检测`` can rank layers without knowing each check.
"""

from __future__ import annotations

from typing import ClassVar

from steadyops.contracts.checks import Check
from steadyops.contracts.memory import Remembers
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.logins import Logins
from steadyops.integrations.zookeeper.client import Answer, Outcome, ZkClient
from steadyops.integrations.zookeeper.discover import KnownDirs
from steadyops.integrations.zookeeper.parse import ZkConf, admin_conf, admin_stats, parse_conf, parse_mntr, parse_srvr
from steadyops.plugins import PluginContext

TARGET_KIND = "zookeeper"


def result_labels(target: Target) -> dict[str, str]:
    """Alert labels every ZooKeeper finding carries: ``cluster`` lets routing group an ensemble."""
    cluster = target.labels.get("cluster")
    return {"cluster": cluster} if cluster else {}


def unanswered(target: Target, answer: Answer, what: str, extra: list[Evidence] | None = None) -> CheckResult:
    """No answer to judge: UNKNOWN (never OK), located by why the question failed."""
    hint = ""
    if answer.outcome is Outcome.NOT_WHITELISTED:
        hint = " (add it to 4lw.commands.whitelist, or set the target label admin_port to use the AdminServer)"
    return CheckResult(
        status=CheckStatus.UNKNOWN,
        summary=f"cannot tell {what}: {answer.describe()}{hint}",
        evidence=[answer.evidence(), *(extra or [])],
        layer=answer.layer,
        labels=result_labels(target),
    )


class ZkMemory:
    """One registry's ZooKeeper memory (the storage checks' and the purge's ``memory``): the data
    directories each server reported last, and the App's SSH logins for remote data disks (default
    ones until the composition root's setup)."""

    def __init__(self) -> None:
        self.dirs = KnownDirs()
        self.logins = Logins()

    def setup(self, context: PluginContext) -> None:
        if context.ssh is not None:
            self.logins = context.ssh


class UsesZk(Remembers[ZkMemory]):
    """A ZooKeeper class that remembers: ``self.memory`` is its registry's :class:`ZkMemory`."""

    memory_type = ZkMemory


class ZkCheck(Check):
    """Base for the ZooKeeper checks: target kind, a client, and a labelled result."""

    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 15.0

    def client(self, target: Target) -> ZkClient:
        return ZkClient(target)

    def result(self, target: Target, status: CheckStatus, summary: str, evidence: list[Evidence], *,
               layer: str = "", metrics: dict[str, float] | None = None) -> CheckResult:
        return CheckResult(status=status, summary=summary, evidence=evidence, metrics=metrics or {},
                           layer=layer if status.failing else "", labels=result_labels(target))


async def fetch_stats(client: ZkClient) -> tuple[dict[str, str] | None, Answer]:
    """Monitoring values: ``mntr``; AdminServer ``monitor`` if mntr is refused; ``srvr`` as last resort.

    ``srvr`` is whitelisted by default, so latency / outstanding / znode count still work on a
    hardened server. Returns ``(None, answer)`` with the most telling failure when nothing worked.
    """
    answer = await client.ask("mntr")
    if answer.ok:
        stats = admin_stats(answer.data) if answer.via == "admin" else parse_mntr(answer.text)
        return stats, answer
    if answer.outcome is not Outcome.NOT_WHITELISTED:
        return None, answer
    srvr = await client.ask("srvr")
    if srvr.ok:
        stats = admin_stats(srvr.data) if srvr.via == "admin" else parse_srvr(srvr.text)
        stats["_source"] = "srvr"
        return stats, srvr
    return None, answer if srvr.outcome is Outcome.NOT_WHITELISTED else srvr


async def fetch_mode(client: ZkClient) -> tuple[str | None, Answer]:
    """The server's mode (leader / follower / standalone / observer / read-only) from srvr, else mntr."""
    answer = await client.ask("srvr")
    if answer.ok:
        stats = admin_stats(answer.data) if answer.via == "admin" else parse_srvr(answer.text)
        return stats.get("zk_server_state"), answer
    if answer.outcome is Outcome.NOT_WHITELISTED:
        mntr = await client.ask("mntr")
        if mntr.ok:
            stats = admin_stats(mntr.data) if mntr.via == "admin" else parse_mntr(mntr.text)
            return stats.get("zk_server_state"), mntr
        if mntr.outcome is not Outcome.NOT_WHITELISTED:
            return None, mntr
    return None, answer


async def fetch_conf(client: ZkClient) -> tuple[ZkConf | None, Answer]:
    answer = await client.ask("conf")
    if not answer.ok:
        return None, answer
    return (admin_conf(answer.data) if answer.via == "admin" else parse_conf(answer.text)), answer


def stat_evidence(answer: Answer, stats: dict[str, str], keys: tuple[str, ...]) -> Evidence:
    """Evidence naming the command and only the values the verdict used (a full mntr is 400 lines)."""
    source = f"{answer.command} @ {answer.address}" if answer.via == "4lw" else f"AdminServer {answer.command}"
    detail = ", ".join(f"{k}={stats[k]}" for k in keys if k in stats) or answer.text[:200]
    return Evidence(source=source, detail=detail)
