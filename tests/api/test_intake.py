"""Alert intake over HTTP: what is accepted, what is refused, and that a refusal stores nothing."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.core.models import fingerprint
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo

from .conftest import ClientFactory

GENERIC = "/api/v1/alerts"
AM = "/api/v1/alerts/alertmanager"
NOW = "2026-01-01T00:00:00Z"  # the fake clock's start


def am_body(*alerts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A webhook exactly as Alertmanager v0.27+ sends it, including keys we do not model."""
    return {
        "receiver": "steadyops",
        "status": "firing",
        "alerts": list(alerts),
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        **extra,
    }


def am_alert(instance: str = "db-1", **overrides: Any) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"},
        "annotations": {"summary": "磁盘使用率超过 90%"},
        "startsAt": "2025-12-31T23:59:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk",
        "fingerprint": "0123456789abcdef",
        **overrides,
    }


def generic_alert(**overrides: Any) -> dict[str, Any]:
    return {"labels": {"alertname": "HighLatency", "service": "checkout"}, "starts_at": NOW, **overrides}


# -- accepted ---------------------------------------------------------------------------------------
async def test_alertmanager_v4_body_with_unknown_keys(app: App, client: httpx.AsyncClient) -> None:
    body = am_body(am_alert("db-1", notification_reason="new"), am_alert("db-2"),
                   notification_reason="alert_group_changed", routeLabels={"team": "dba"})
    resp = await client.post(AM, json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"received": 2, "new": 2, "duplicates": 0}
    app.pipeline.process_sync()
    with app.store.transaction() as s:
        rows = {r.labels["instance"]: r for r in alerts_repo.list_alerts(s)}
        assert set(rows) == {"db-1", "db-2"}
        for instance, row in rows.items():
            # our own fingerprint, not the one in the body: it is what dedup must key on
            assert row.fingerprint == fingerprint({"alertname": "DiskFull", "instance": instance,
                                                   "severity": "critical"})
            assert row.source == "alertmanager"
            assert row.ends_at is None  # Go's zero time means "not set"
            assert row.annotations["summary"] == "磁盘使用率超过 90%"
        (incident,) = incidents_repo.list_rows(s)
        assert incident.status == "open"


async def test_redelivery_is_not_new(app: App, client: httpx.AsyncClient, stored: Callable[[], int]) -> None:
    body = am_body(am_alert("db-1"), am_alert("db-2"))
    assert (await client.post(AM, json=body)).json()["new"] == 2
    again = await client.post(AM, json=body)
    assert again.status_code == 200
    assert again.json() == {"received": 2, "new": 0, "duplicates": 2}
    # a repeat inside one request is a duplicate too
    twice = await client.post(GENERIC, json={"alerts": [generic_alert(), generic_alert()]})
    assert twice.json() == {"received": 2, "new": 1, "duplicates": 1}
    assert stored() == 3


async def test_generic_bare_list_defaults(app: App, client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    fake_clock.advance(90)
    resp = await client.post(GENERIC, json=[{"labels": {"alertname": "Ping"}}])
    assert resp.json()["new"] == 1
    with app.store.transaction() as s:
        (row,) = alerts_repo.pending_events(s, 10)
        assert row.starts_at == fake_clock.now()  # no startsAt means "now"
        assert row.source == "api" and row.status == "firing"


async def test_generic_camel_case_source_and_resolution(app: App, client: httpx.AsyncClient,
                                                        fake_clock: FakeClock) -> None:
    fire = {"alerts": [{"labels": {"alertname": "Ping", "instance": "a"}, "startsAt": NOW,
                        "generatorURL": "http://x"}], "source": "zabbix"}
    assert (await client.post(GENERIC, json=fire)).json()["new"] == 1
    app.pipeline.process_sync()
    fake_clock.advance(60)
    resolved = {"alerts": [{"labels": {"alertname": "Ping", "instance": "a"}, "startsAt": NOW,
                            "status": "resolved"}], "source": "zabbix"}
    assert (await client.post(GENERIC, json=resolved)).json()["new"] == 1
    app.pipeline.process_sync()
    with app.store.transaction() as s:
        (row,) = alerts_repo.list_alerts(s)
        assert row.status == "resolved" and row.source == "zabbix"
        assert row.ends_at == fake_clock.now()  # a resolution without endsAt ends now
        (incident,) = incidents_repo.list_rows(s)
        assert incident.status == "resolved" and incident.resolved_by == "auto"


def test_fingerprint_matches_prometheus_and_ignores_order() -> None:
    # Vectors from prometheus/common model.TestMetricToFingerprint, which Alertmanager uses.
    assert int(fingerprint({}), 16) == 14695981039346656037
    assert int(fingerprint({"name": "garland, briggs", "fear": "love is not enough"}), 16) == 5799056148416392346
    labels = {"alertname": "DiskFull", "instance": "db-1", "severity": "critical", "机房": "上海"}
    reordered = dict(reversed(list(labels.items())))
    assert fingerprint(labels) == fingerprint(reordered) == fingerprint(dict(labels))
    assert fingerprint(labels) != fingerprint({**labels, "severity": "warning"})
    # the separator byte keeps label boundaries apart: a=bc is not ab=c
    assert fingerprint({"a": "bc"}) != fingerprint({"ab": "c"})


def _fnv1a_64_reference(labels: dict[str, str]) -> int:
    """FNV-1a 64 as written in the Prometheus source, byte by byte: the C hash must agree with it."""
    h = 14695981039346656037
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8") + b"\xff":
                h = ((h ^ byte) * 1099511628211) & ((1 << 64) - 1)
    return h


def test_fingerprint_agrees_with_the_byte_by_byte_algorithm() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ_09:./-= 机房上海\u00ff\u00e9\U0001f600"
    for _ in range(300):
        def text(low: int, high: int) -> str:
            return "".join(rng.choices(alphabet, k=rng.randint(low, high)))

        labels = {text(1, 12): text(0, 40) for _ in range(rng.randint(0, 8))}
        assert int(fingerprint(labels), 16) == _fnv1a_64_reference(labels)


async def test_label_order_in_body_does_not_change_identity(client: httpx.AsyncClient) -> None:
    first = generic_alert(labels={"alertname": "X", "a": "1", "b": "2"})
    second = generic_alert(labels={"b": "2", "alertname": "X", "a": "1"})
    assert (await client.post(GENERIC, json=[first])).json()["new"] == 1
    assert (await client.post(GENERIC, json=[second])).json()["new"] == 0


# -- refused, and nothing stored ---------------------------------------------------------------------
async def reject(client: httpx.AsyncClient, stored: Callable[[], int], path: str, content: bytes,
                 status: int, *needles: str) -> dict[str, Any]:
    before = stored()
    resp = await client.post(path, content=content, headers={"content-type": "application/json"})
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    for needle in needles:
        assert needle in detail, detail
    assert stored() == before, "a rejected body must store nothing"
    result: dict[str, Any] = resp.json()
    return result


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_malformed_json_names_the_position(client: httpx.AsyncClient, stored: Callable[[], int],
                                                 path: str) -> None:
    await reject(client, stored, path, b'{"alerts": [\n  {"labels": {"a": "b"},}\n]}', 400,
                 "malformed JSON", "line 2 column")
    await reject(client, stored, path, b"", 400, "empty")


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_non_utf8_body(client: httpx.AsyncClient, stored: Callable[[], int], path: str) -> None:
    body = '{"alerts": [{"labels": {"alertname": "磁盘"}}]}'.encode("gbk")
    await reject(client, stored, path, body, 400, "UTF-8")


def _wrap(path: str, *alerts: dict[str, Any]) -> bytes:
    return dumps(am_body(*alerts) if path == AM else {"alerts": list(alerts)})


def _good(path: str) -> dict[str, Any]:
    return am_alert("ok-1") if path == AM else generic_alert()


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_label_value_of_wrong_type(client: httpx.AsyncClient, stored: Callable[[], int], path: str) -> None:
    bad = {**_good(path), "labels": {"alertname": "X", "severity": 2}}
    result = await reject(client, stored, path, _wrap(path, _good(path), bad), 400, "alerts.1.labels.severity")
    assert result["error"] == "ValidationFailed"


@pytest.mark.parametrize("path", [GENERIC, AM])
@pytest.mark.parametrize(("labels", "needle"), [
    (None, "alerts.0.labels"),
    ({}, "at least one label"),
    ({"bad-name": "x"}, "bad-name"),
    ("alertname=X", "alerts.0.labels"),
])
async def test_missing_or_invalid_labels(client: httpx.AsyncClient, stored: Callable[[], int], path: str,
                                         labels: Any, needle: str) -> None:
    alert = dict(_good(path))
    if labels is None:
        del alert["labels"]
    else:
        alert["labels"] = labels
    await reject(client, stored, path, _wrap(path, alert), 400, needle)


@pytest.mark.parametrize("path", [GENERIC, AM])
@pytest.mark.parametrize("when", ["1990-01-01T00:00:00Z", "3000-01-01T00:00:00Z", "2025-11-01T00:00:00Z"])
async def test_absurd_start_times(client: httpx.AsyncClient, stored: Callable[[], int], path: str,
                                  when: str) -> None:
    key = "startsAt" if path == AM else "starts_at"
    await reject(client, stored, path, _wrap(path, {**_good(path), key: when}), 400, "alerts.0.startsAt",
                 "outside the accepted range")


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_bad_end_times(client: httpx.AsyncClient, stored: Callable[[], int], path: str) -> None:
    key = "endsAt" if path == AM else "ends_at"
    await reject(client, stored, path, _wrap(path, {**_good(path), key: "2025-12-01T00:00:00Z"}), 400,
                 "endsAt is before startsAt")
    await reject(client, stored, path, _wrap(path, {**_good(path), key: "3000-01-01T00:00:00Z"}), 400,
                 "absurdly far")
    await reject(client, stored, path, _wrap(path, {**_good(path), key: "yesterday"}), 400, "alerts.0")


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_one_bad_alert_rejects_the_whole_batch(client: httpx.AsyncClient, stored: Callable[[], int],
                                                     path: str) -> None:
    bad = {**_good(path), "status": "exploded"}
    await reject(client, stored, path, _wrap(path, _good(path), bad), 400, "alerts.1.status")
    assert stored() == 0


async def test_schema_errors(client: httpx.AsyncClient, stored: Callable[[], int]) -> None:
    await reject(client, stored, AM, dumps({**am_body(am_alert()), "version": "3"}), 400, "version")
    await reject(client, stored, AM, dumps({"alerts": [am_alert()]}), 400, "version")
    await reject(client, stored, GENERIC, dumps({"alerts": [generic_alert(colour="red")]}), 400,
                 "alerts.0.colour")
    await reject(client, stored, GENERIC, dumps({"alerts": []}), 400, "alerts")
    await reject(client, stored, GENERIC, dumps({"alerts": [generic_alert()], "source": "a b"}), 400, "source")
    await reject(client, stored, GENERIC, dumps("just a string"), 400)
    await reject(client, stored, AM, dumps([am_alert()]), 400)


# -- size limits ---------------------------------------------------------------------------------------
@pytest.fixture
def small(make_app: Any) -> App:
    built: App = make_app(intake={"max_body_bytes": 1000, "max_alerts_per_request": 3})
    return built


@pytest.fixture
def small_stored(small: App) -> Callable[[], int]:
    def _count() -> int:
        with small.store.transaction() as s:
            return alerts_repo.count_events(s)

    return _count


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_body_over_the_limit(small: App, make_client: ClientFactory, small_stored: Callable[[], int],
                                   path: str) -> None:
    client = make_client(small)
    big = [{**_good(path), "annotations": {"description": "x" * 300}, "labels": {"alertname": f"A{i}"}}
           for i in range(3)]
    content = _wrap(path, *big)
    assert len(content) > 1000
    result = await reject(client, small_stored, path, content, 413, "limit")
    assert result["error"] == "PayloadTooLarge"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream is counted instead
        for start in range(0, len(content), 256):
            yield content[start:start + 256]

    resp = await client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert small_stored() == 0
    # just under the limit is fine
    ok = _wrap(path, _good(path))
    assert len(ok) < 1000
    assert (await client.post(path, content=ok, headers={"content-type": "application/json"})).status_code == 200


async def test_too_many_alerts_in_one_request(small: App, make_client: ClientFactory,
                                              small_stored: Callable[[], int]) -> None:
    alerts = [{"labels": {"alertname": f"A{i}"}} for i in range(4)]
    await reject(make_client(small), small_stored, GENERIC, dumps(alerts), 413, "4 alerts", "limit is 3")


async def test_openapi_documents_both_bodies(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in (GENERIC, AM):
        schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert "alerts" in schema["properties"]
