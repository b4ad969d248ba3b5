"""Read-only RabbitMQ snapshots from the management API (also agent tools): overview, nodes, the
deepest queues. An unreachable API comes back as data (``ok: false``, layer, how to enable it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from steadyops.contracts.collectors import GatheringCollector
from steadyops.core.inventory import Target
from steadyops.integrations.rabbitmq.base import TARGET_KIND, ApiUnavailable, api_get, vhost_path
from steadyops.integrations.rabbitmq.checks import NODE_COLUMNS, QUEUE_COLUMNS

OVERVIEW_KEYS = ("rabbitmq_version", "erlang_version", "cluster_name", "node", "queue_totals", "object_totals",
                 "message_stats", "listeners")


class _RabbitCollector(GatheringCollector):
    target_kind: ClassVar[str] = TARGET_KIND
    unanswered: ClassVar[tuple[type[Exception], ...]] = (ApiUnavailable,)


class OverviewCollector(_RabbitCollector):
    name: ClassVar[str] = "rabbitmq.overview"
    description: ClassVar[str] = ("RabbitMQ cluster overview: versions, cluster name, message totals (ready, "
                                  "unacknowledged), publish / deliver rates, object counts, listeners")

    async def gather(self, target: Target) -> dict[str, Any]:
        overview: dict[str, Any] = await api_get(target, "/api/overview")
        stats = overview.get("message_stats") or {}
        overview["message_stats"] = {k: v for k, v in stats.items() if k.endswith("_details") or k in {
            "publish", "deliver_get", "ack", "redeliver"}}
        return {k: overview[k] for k in OVERVIEW_KEYS if k in overview}


class NodesCollector(_RabbitCollector):
    name: ClassVar[str] = "rabbitmq.node_stats"
    description: ClassVar[str] = ("RabbitMQ nodes: running, memory and disk alarms, memory used vs limit, disk free "
                                  "vs limit, file descriptors, sockets, partitions, uptime")

    async def gather(self, target: Target) -> dict[str, Any]:
        return {"nodes": await api_get(target, "/api/nodes", {"columns": NODE_COLUMNS})}


class QueuesCollector(_RabbitCollector):
    name: ClassVar[str] = "rabbitmq.queue_depths"
    description: ClassVar[str] = ("RabbitMQ queues with the most messages ready (top 50): vhost, name, state, type, "
                                  "ready, unacknowledged, consumers, node")

    async def gather(self, target: Target) -> dict[str, Any]:
        page = await api_get(target, "/api/queues" + vhost_path(target),
                             {"columns": QUEUE_COLUMNS, "page": 1, "page_size": 50, "sort": "messages_ready",
                              "sort_reverse": "true"})
        return {"total": page.get("filtered_count"), "queues": page.get("items", [])}


COLLECTORS: tuple[type[_RabbitCollector], ...] = (OverviewCollector, NodesCollector, QueuesCollector)
