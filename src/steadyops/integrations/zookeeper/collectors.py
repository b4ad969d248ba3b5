"""Read-only snapshots of a ZooKeeper server: ``mntr``, ``conf``, ``cons``. Also the agent's tools.

Facts without a verdict. A question that could not be answered is a fact too, so it is returned in
the snapshot (``ok: false``, the outcome and why) rather than raised: an agent reading "refused
by 4lw.commands.whitelist" learns more than from an exception.
"""

from __future__ import annotations

from typing import Any, ClassVar

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.integrations.zookeeper.base import TARGET_KIND
from steadyops.integrations.zookeeper.client import Answer, ZkClient
from steadyops.integrations.zookeeper.parse import (
    admin_conf,
    admin_cons,
    admin_stats,
    parse_conf,
    parse_cons,
    parse_mntr,
    typed,
)


def _meta(answer: Answer) -> dict[str, Any]:
    meta: dict[str, Any] = {"ok": answer.ok, "command": answer.command, "via": answer.via,
                            "outcome": answer.outcome.value, "elapsed_ms": answer.elapsed_ms}
    if not answer.ok:
        meta["error"] = answer.describe()
    return meta


class _ZkCollector(Collector):
    target_kind: ClassVar[str] = TARGET_KIND
    word: ClassVar[str] = ""

    async def collect(self, target: Target) -> Snapshot:
        answer = await ZkClient(target).ask(self.word)
        data = _meta(answer)
        if answer.ok:
            data.update(self.parse(answer))
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())

    def parse(self, answer: Answer) -> dict[str, Any]:
        raise NotImplementedError


class MntrCollector(_ZkCollector):
    name: ClassVar[str] = "zookeeper.mntr"
    description: ClassVar[str] = ("ZooKeeper monitoring values (mntr): server state, latency, outstanding requests, "
                                  "znodes, watches, file descriptors, followers, sessions")
    word: ClassVar[str] = "mntr"

    def parse(self, answer: Answer) -> dict[str, Any]:
        stats = admin_stats(answer.data) if answer.via == "admin" else parse_mntr(answer.text)
        return {"values": typed(stats)}


class ConfCollector(_ZkCollector):
    name: ClassVar[str] = "zookeeper.conf"
    description: ClassVar[str] = ("ZooKeeper effective configuration (conf): clientPort, dataDir, dataLogDir, "
                                  "tickTime, session timeouts, ensemble membership")
    word: ClassVar[str] = "conf"

    def parse(self, answer: Answer) -> dict[str, Any]:
        conf = admin_conf(answer.data) if answer.via == "admin" else parse_conf(answer.text)
        members = [{"id": m.myid, "host": m.host, "quorum_port": m.quorum_port, "election_port": m.election_port,
                    "role": m.role, "client_address": m.client_address(0) if m.client_port else None}
                   for m in conf.members]
        return {"values": dict(conf.values), "members": members}


class ConsCollector(_ZkCollector):
    name: ClassVar[str] = "zookeeper.cons"
    description: ClassVar[str] = ("ZooKeeper client connections (cons): client address, session id, queued and "
                                  "received packets, last operation, latency per connection")
    word: ClassVar[str] = "cons"

    def parse(self, answer: Answer) -> dict[str, Any]:
        conns = admin_cons(answer.data) if answer.via == "admin" else parse_cons(answer.text)
        return {"connections": conns, "count": len(conns)}


COLLECTORS: tuple[type[Collector], ...] = (MntrCollector, ConfCollector, ConsCollector)
