"""RabbitMQ checks: the AMQP port answers, node alarms and resources, queue backlogs.

Target: kind ``rabbitmq``, address ``host:port`` of AMQP (default 5672). Labels: ``api_url``
(default ``http://<host>:15672``), ``user`` (default guest; a monitoring user needs the
``monitoring`` tag), ``vhost`` (scope the queue check), ``timeout``, and the thresholds named
below. The password is a credential reference.
"""

from __future__ import annotations

import asyncio
import errno
import time
from typing import Any, ClassVar

from steadyops.contracts.checks import label_float, worst
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.rabbitmq.base import AMQP_PORT, RabbitCheck, api_get, vhost_path

OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
RB_DOWN = "host/host-service-down.en.md"
RB_ALARM = "rabbitmq/rabbitmq-resource-alarm.en.md"
RB_QUEUE = "rabbitmq/rabbitmq-queue-backlog.en.md"
NODE_COLUMNS = ("name,running,mem_alarm,disk_free_alarm,mem_used,mem_limit,disk_free,disk_free_limit,fd_used,"
                "fd_total,sockets_used,sockets_total,partitions,uptime")
QUEUE_COLUMNS = "name,vhost,state,messages_ready,messages_unacknowledged,consumers,type,node"
QUEUE_PAGE = 500


class PortCheck(RabbitCheck):
    """Does the AMQP port answer the protocol header with a Connection.Start frame? Independent of
    the management plugin, so it is the one check that tells "broker down" (process)."""

    name: ClassVar[str] = "rabbitmq.port"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_DOWN

    async def judge(self, target: Target) -> CheckResult:
        host, port = split_address(target.address, AMQP_PORT)
        timeout = label_float(target, "timeout", 5.0)
        source = f"AMQP 0-9-1 handshake {host}:{port}"
        t0 = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except ConnectionRefusedError:
            return self.result(CRIT, f"RabbitMQ is not listening on {host}:{port} (connection refused)",
                               [Evidence(source=source, detail="connection refused")], "process")
        except (TimeoutError, OSError) as exc:
            # "no route" is an answer (the network says no); a timeout or a DNS failure is a question not asked
            answered = isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
            what = "connect timed out" if isinstance(exc, TimeoutError) else f"connect failed: {exc}"
            return CheckResult(status=CRIT if answered else CheckStatus.UNKNOWN, layer="network",
                               summary=f"cannot reach {host}:{port}: {what}", evidence=[Evidence(source=source,
                                                                                                 detail=what)])
        try:
            writer.write(AMQP_HEADER)
            await writer.drain()
            frame = await asyncio.wait_for(reader.read(7), timeout)
        except (TimeoutError, OSError) as exc:
            frame = b""
            detail = f"no answer to the protocol header: {type(exc).__name__}"
        else:
            detail = f"first frame type {frame[:1].hex() or '-'} ({len(frame)} bytes)"
        finally:
            writer.close()
        ms = round((time.monotonic() - t0) * 1000, 1)
        if frame[:1] == b"\x01":  # a method frame: Connection.Start
            return self.result(OK, f"AMQP answers on {host}:{port} ({ms:g} ms)", [Evidence(source=source,
                               detail=detail)], "", {"handshake_ms": ms})
        return self.result(CRIT, f"{host}:{port} accepts connections but does not speak AMQP 0-9-1 ({detail})",
                           [Evidence(source=source, detail=detail)], "process")


class NodesCheck(RabbitCheck):
    """Per node: running, memory / disk alarms (publishers are BLOCKED while one is raised), memory,
    disk, file descriptors against their limits, and network partitions (split brain)."""

    name: ClassVar[str] = "rabbitmq.nodes"
    runbook: ClassVar[str | None] = RB_ALARM

    async def judge(self, target: Target) -> CheckResult:
        nodes: list[dict[str, Any]] = await api_get(target, "/api/nodes", {"columns": NODE_COLUMNS})
        warn_pct = label_float(target, "mem_warn_pct", 80)
        fd_warn = label_float(target, "fd_warn_pct", 80)
        findings: list[tuple[CheckStatus, str, str]] = []
        evidence = []
        for n in nodes:
            name = n.get("name", "?")
            mem_pct = 100 * float(n.get("mem_used") or 0) / max(float(n.get("mem_limit") or 0), 1)
            fd_pct = 100 * float(n.get("fd_used") or 0) / max(float(n.get("fd_total") or 0), 1)
            disk_free, disk_limit = float(n.get("disk_free") or 0), float(n.get("disk_free_limit") or 0)
            evidence.append(Evidence(source="GET /api/nodes", detail=(
                f"{name}: running={n.get('running')} mem_alarm={n.get('mem_alarm')} "
                f"disk_free_alarm={n.get('disk_free_alarm')} mem {mem_pct:.0f}% of limit, disk_free "
                f"{disk_free / 1e9:.1f} GB (limit {disk_limit / 1e9:.2f} GB), fd {fd_pct:.0f}%, "
                f"partitions={n.get('partitions') or []}")))
            if not n.get("running", True):
                findings.append((CRIT, "process", f"{name} is not running"))
                continue
            if n.get("mem_alarm"):
                findings.append((CRIT, "capacity", f"{name}: memory alarm, publishers are blocked"))
            elif mem_pct >= warn_pct:
                findings.append((WARN, "capacity", f"{name}: memory at {mem_pct:.0f}% of the high watermark"))
            if n.get("disk_free_alarm"):
                findings.append((CRIT, "disk", f"{name}: disk free alarm, publishers are blocked"))
            elif disk_limit and disk_free < disk_limit * label_float(target, "disk_warn_factor", 2):
                findings.append((WARN, "disk", f"{name}: disk free {disk_free / 1e9:.2f} GB near the limit"))
            if fd_pct >= fd_warn:
                findings.append((WARN, "capacity", f"{name}: file descriptors at {fd_pct:.0f}%"))
            if n.get("partitions"):
                findings.append((CRIT, "network", f"{name}: network partition with {n['partitions']}"))
        metrics = {"nodes": float(len(nodes)), "nodes_running": float(sum(1 for n in nodes if n.get("running")))}
        if not findings:
            return self.result(OK, f"{len(nodes)} node(s) running, no alarms", evidence, "", metrics)
        status = worst(*(s for s, _, _ in findings))
        layer = next(layer for s, layer, _ in findings if s is status)
        return self.result(status, "; ".join(m for _, _, m in findings), evidence, layer, metrics)


class QueuesCheck(RabbitCheck):
    """Queues piling up: messages ready with no consumer at all (consumers died or were never
    deployed), deep backlogs, many unacknowledged (consumers stuck), a queue not running."""

    name: ClassVar[str] = "rabbitmq.queues"
    runbook: ClassVar[str | None] = RB_QUEUE

    async def judge(self, target: Target) -> CheckResult:
        page = await api_get(target, "/api/queues" + vhost_path(target),
                             {"columns": QUEUE_COLUMNS, "page": 1, "page_size": QUEUE_PAGE, "sort": "messages_ready",
                              "sort_reverse": "true"})
        queues: list[dict[str, Any]] = page.get("items", []) if isinstance(page, dict) else list(page)
        total = int(page.get("filtered_count", len(queues))) if isinstance(page, dict) else len(queues)
        t = {k: label_float(target, k, d) for k, d in (
            ("no_consumer_warn", 1), ("no_consumer_crit", 1000), ("ready_warn", 10_000), ("ready_crit", 100_000),
            ("unacked_warn", 5_000), ("unacked_crit", 50_000))}
        findings: list[tuple[CheckStatus, str, str]] = []
        for q in queues:
            qname = f"{q.get('vhost', '?')}/{q.get('name', '?')}"
            ready, unacked = int(q.get("messages_ready") or 0), int(q.get("messages_unacknowledged") or 0)
            consumers, state = int(q.get("consumers") or 0), str(q.get("state") or "running")
            if state not in {"running", "idle", "flow"}:
                findings.append((CRIT, "process", f"{qname} is {state}"))
            if consumers == 0 and ready >= t["no_consumer_warn"]:
                level = CRIT if ready >= t["no_consumer_crit"] else WARN
                findings.append((level, "process", f"{qname}: {ready} ready, no consumers"))
            elif ready >= t["ready_warn"]:
                level = CRIT if ready >= t["ready_crit"] else WARN
                findings.append((level, "capacity", f"{qname}: {ready} ready for {consumers} consumer(s)"))
            if unacked >= t["unacked_warn"]:
                level = CRIT if unacked >= t["unacked_crit"] else WARN
                findings.append((level, "process", f"{qname}: {unacked} unacknowledged (consumers stuck?)"))
        ready_total = sum(int(q.get("messages_ready") or 0) for q in queues)
        metrics = {"queues": float(total), "messages_ready": float(ready_total),
                   "queues_without_consumers": float(sum(1 for q in queues if not q.get("consumers")))}
        scope = f"vhost {target.labels['vhost']!r}" if target.labels.get("vhost") else "all vhosts"
        top = ", ".join(f"{q.get('vhost')}/{q.get('name')} ready={q.get('messages_ready')} "
                        f"unacked={q.get('messages_unacknowledged')} consumers={q.get('consumers')}"
                        for q in queues[:5])
        evidence = [Evidence(source=f"GET /api/queues{vhost_path(target)} (by messages_ready)",
                             detail=top or "(no queues)")]
        if not findings:
            return self.result(OK, f"{total} queue(s) in {scope}, {ready_total} messages ready, no backlog",
                               evidence, "", metrics)
        findings.sort(key=lambda f: -f[0].rank)
        status, layer = findings[0][0], findings[0][1]
        more = f" (+{len(findings) - 5} more)" if len(findings) > 5 else ""
        return self.result(status, "; ".join(m for _, _, m in findings[:5]) + more, evidence, layer, metrics)


CHECKS: tuple[type[RabbitCheck], ...] = (PortCheck, NodesCheck, QueuesCheck)
