"""RabbitMQ verdicts on management-API answers captured from a real RabbitMQ 3.10 (see data/):
``queues_backlog_no_consumer.json`` (20 ready, no consumer) and ``nodes_healthy.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.rabbitmq import checks
from steadyops.integrations.rabbitmq.base import ApiUnavailable, api_url, vhost_path

DATA = Path(__file__).parent / "data"
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def answering(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any]) -> list[str]:
    asked: list[str] = []

    async def fake(target: Target, path: str, params: dict[str, Any] | None = None) -> Any:
        asked.append(path)
        answer = answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(checks, "api_get", fake)
    return asked


def target(**labels: str) -> Target:
    return Target(name="mq", kind="rabbitmq", address="10.0.0.9:5672", labels=labels)


async def test_backlog_without_consumers(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answering(monkeypatch, {"/api/queues/steadyops-it": load("queues_backlog_no_consumer.json")})
    result = await checks.QueuesCheck().run(target(vhost="steadyops-it"))
    assert asked == ["/api/queues/steadyops-it"]
    assert result.status is WARN and result.layer == "process"
    assert result.summary == "steadyops-it/orders: 20 ready, no consumers"
    assert result.metrics["queues_without_consumers"] == 1
    big = await checks.QueuesCheck().run(target(vhost="steadyops-it", no_consumer_crit="10"))
    assert big.status is CRIT


async def test_deep_queue_with_consumers_and_stuck_unacked(monkeypatch: pytest.MonkeyPatch) -> None:
    page = {"filtered_count": 2, "items": [
        {"vhost": "/", "name": "events", "messages_ready": 250_000, "messages_unacknowledged": 10, "consumers": 4,
         "state": "running"},
        {"vhost": "/", "name": "mail", "messages_ready": 0, "messages_unacknowledged": 6_000, "consumers": 1,
         "state": "running"}]}
    answering(monkeypatch, {"/api/queues": page})
    result = await checks.QueuesCheck().run(target())
    assert result.status is CRIT and result.layer == "capacity"
    assert "//events: 250000 ready for 4 consumer(s)" in result.summary and "6000 unacknowledged" in result.summary


async def test_nodes_alarms(monkeypatch: pytest.MonkeyPatch) -> None:
    healthy = load("nodes_healthy.json")
    answering(monkeypatch, {"/api/nodes": healthy})
    assert (await checks.NodesCheck().run(target())).status is OK
    alarmed = [{**healthy[0], "mem_alarm": True}]
    answering(monkeypatch, {"/api/nodes": alarmed})
    result = await checks.NodesCheck().run(target())
    assert result.status is CRIT and result.layer == "capacity" and "publishers are blocked" in result.summary
    disk = [{**healthy[0], "disk_free_alarm": True}]
    answering(monkeypatch, {"/api/nodes": disk})
    assert (await checks.NodesCheck().run(target())).layer == "disk"


async def test_api_unavailable_is_unknown_never_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, {"/api/nodes": ApiUnavailable("config", "management API: connection refused; enable it")})
    result = await checks.NodesCheck().run(target())
    assert result.status is UNKNOWN and result.layer == "config" and "enable it" in result.summary


def test_api_url_and_vhost_encoding() -> None:
    assert api_url(target()) == "http://10.0.0.9:15672"
    assert api_url(target(api_url="https://mq.example/")) == "https://mq.example"
    assert vhost_path(target(vhost="/")) == "/%2F" and vhost_path(target()) == ""
