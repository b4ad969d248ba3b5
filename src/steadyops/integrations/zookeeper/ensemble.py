"""The ensemble view: how many voting members serve, against the quorum the ensemble needs.

One server's own checks cannot say whether the service survives: 2 of 3 serving is a WARNING
(one more failure and it is gone), 1 of 3 is an outage even though that one process is up and
answers ``imok``. The membership comes from, in order:

1. the target label ``members`` (comma-separated client addresses) — explicit, works when this
   member is down;
2. the ``membership:`` lines of this member's ``conf`` (``server.N=host:q:e;clientaddr:port``);
   without a client address there, members are assumed to use this target's client port;
3. nothing: a standalone server is an ensemble of one.

Every member is asked ``srvr`` (whitelisted by default) concurrently. Each member of a cluster
reports the same verdict; alerts carry the ``cluster`` label so routing can group them, and
``zk检测`` (:mod:`.diagnose`) merges them into one ensemble line using the inventory as well.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.zookeeper.base import ZkCheck, fetch_conf, fetch_mode, unanswered
from steadyops.integrations.zookeeper.client import DEFAULT_PORT, Answer, Outcome, ZkClient
from steadyops.integrations.zookeeper.parse import Member

RB_QUORUM = "zookeeper/zk-quorum-lost.en.md"


@dataclass(frozen=True)
class MemberState:
    address: str
    voting: bool
    mode: str | None  # None: no answer or not serving
    answer: Answer

    @property
    def serving(self) -> bool:
        return self.mode in ("leader", "follower", "observer", "standalone")


def quorum_size(voters: int) -> int:
    """Majority of the voting members: 2 of 3, 3 of 5, 2 of 2 (why even sizes buy nothing)."""
    return voters // 2 + 1


def judge_ensemble(states: list[MemberState]) -> tuple[CheckStatus, str, dict[str, float]]:
    """The verdict from the members' modes; pure, so the arithmetic is unit-tested."""
    voters = [s for s in states if s.voting]
    size = len(voters)
    serving = sum(1 for s in voters if s.serving)
    leaders = sum(1 for s in voters if s.mode == "leader")
    need = quorum_size(size)
    tolerated = max(0, serving - need)
    metrics = {"ensemble_size": float(size), "serving_members": float(serving), "quorum_size": float(need),
               "failures_tolerated": float(tolerated), "leaders": float(leaders)}
    down = [s.address for s in voters if not s.serving]
    if leaders > 1:
        return CheckStatus.CRITICAL, f"{leaders} members claim to lead (split brain?)", metrics
    if serving < need:
        return (CheckStatus.CRITICAL,
                f"quorum lost: {serving} of {size} voting members serve, {need} needed; down or not serving: "
                f"{', '.join(down)}", metrics)
    if serving < size:
        return (CheckStatus.WARNING,
                f"{serving} of {size} members serve (quorum {need}): one more failure "
                f"{'ends' if tolerated == 0 else 'is tolerated, then'} the service; not serving: {', '.join(down)}",
                metrics)
    return CheckStatus.OK, f"all {size} members serve, leader elected (quorum {need})", metrics


class EnsembleCheck(ZkCheck):
    """Serving members vs ensemble size; quorum lost is CRITICAL even when this member is up."""

    name: ClassVar[str] = "zookeeper.ensemble"
    runbook: ClassVar[str | None] = RB_QUORUM

    async def run(self, target: Target) -> CheckResult:
        client = self.client(target)
        members, source, failed = await self._members(client, target)
        if members is None or len(members) <= 1:
            # no membership (conf refused or not served) or none listed: a standalone server needs none
            mode, answer = await fetch_mode(client)
            if mode == "standalone" or (mode is not None and members is not None):
                return self.result(target, CheckStatus.OK, f"standalone server ({mode}), no ensemble",
                                   [answer.evidence(200)],
                                   metrics={"ensemble_size": 1.0, "serving_members": 1.0, "quorum_size": 1.0})
            why = failed if failed is not None and mode is not None else answer
            return unanswered(target, why, "the ensemble membership (set the label members=host:port,…)")
        states = await asyncio.gather(*(self._state(client, addr, voting) for addr, voting in members))
        status, summary, metrics = judge_ensemble(list(states))
        evidence = [Evidence(source=f"membership from {source}", detail=", ".join(a for a, _ in members))]
        evidence += [Evidence(source=f"srvr @ {s.address}", value=s.mode or s.answer.outcome.value,
                              detail=f"Mode: {s.mode}" if s.mode else s.answer.describe()) for s in states]
        return self.result(target, status, summary, evidence, layer="quorum", metrics=metrics)

    async def _members(self, client: ZkClient,
                       target: Target) -> tuple[list[tuple[str, bool]] | None, str, Answer | None]:
        label = target.labels.get("members", "")
        if label.strip():
            addrs = [a.strip() for a in label.split(",") if a.strip()]
            own = client.address
            if own not in addrs and target.address not in addrs:
                addrs.append(own)
            return [(a, True) for a in addrs], "label", None
        conf, answer = await fetch_conf(client)
        if conf is None:
            return None, "conf", answer
        members = [(_normalise(m, client.host, client.port), m.voting) for m in conf.members]
        return members or [(client.address, True)], "conf", None

    async def _state(self, own: ZkClient, address: str, voting: bool) -> MemberState:
        if address == own.address:  # ask ourselves through the target's client (admin fallback, labels)
            mode, answer = await fetch_mode(own)
        else:
            host, port = split_address(address, DEFAULT_PORT)
            peer = ZkClient(Target(name=address, kind="zookeeper", address=f"{host}:{port}",
                                   labels={"timeout": str(own.timeout)}))
            mode, answer = await fetch_mode(peer)
        if answer.outcome is Outcome.NOT_SERVING:
            mode = None
        return MemberState(address, voting, mode, answer)


def _normalise(member: Member, own_host: str, own_port: int) -> str:
    """A member's client address; loopback spellings of our own host compare equal."""
    address = member.client_address(own_port)
    host, port = split_address(address, DEFAULT_PORT)
    if host in ("localhost", "127.0.0.1") and own_host in ("localhost", "127.0.0.1"):
        host = own_host
    return f"{host}:{port}"


CHECKS: tuple[type[ZkCheck], ...] = (EnsembleCheck,)
