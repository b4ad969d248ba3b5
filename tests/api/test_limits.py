"""Input limits and out-of-range ids: each a 4xx naming the limit, nothing stored, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

GENERIC = "/api/v1/alerts"
AM = "/api/v1/alerts/alertmanager"
NOW = "2026-01-01T00:00:00Z"  # the fake clock's start
HUGE = 2**63


def alert(**labels: str) -> dict[str, Any]:
    return {"labels": {"alertname": "DiskFull", **labels}, "startsAt": NOW}


@pytest.mark.parametrize("path", [GENERIC, AM])
async def test_deeply_nested_json_is_a_400_naming_the_limit(client: httpx.AsyncClient, path: str,
                                                           stored: Callable[[], int]) -> None:
    body = '{"alerts": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    resp = await client.post(path, content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "max_json_depth" in resp.json()["detail"]
    brackets_in_strings = {"alerts": [{"labels": {"alertname": "[" * 1000}, "startsAt": NOW}]}
    assert (await client.post(GENERIC, json=brackets_in_strings)).status_code == 200  # strings are not nesting
    assert stored() == 1


@pytest.mark.parametrize(("labels", "annotations", "limit"), [
    ({f"l{i}": "x" for i in range(65)}, {}, "max_labels"),
    ({"instance": "x" * 4_000_000}, {}, "max_label_bytes"),
    ({"x" * 3000: "v"}, {}, "max_label_bytes"),
    ({}, {"summary": "y" * 40_000}, "max_annotation_bytes"),
    ({}, {f"a{i}": "" for i in range(65)}, "max_annotations"),
    ({"instance": "db\x00-1"}, {}, "NUL"),
    ({}, {"summary": "a\x00b"}, "NUL"),
])
async def test_label_and_annotation_limits(client: httpx.AsyncClient, stored: Callable[[], int],
                                           labels: dict[str, str], annotations: dict[str, str], limit: str) -> None:
    body = {"alerts": [{**alert(**labels), "annotations": annotations}]}
    resp = await client.post(GENERIC, json=body)
    assert resp.status_code == 400, resp.text
    assert limit in resp.json()["detail"]
    am = {"version": "4", "alerts": [{**alert(**labels), "annotations": annotations, "status": "firing"}]}
    assert (await client.post(AM, json=am)).status_code == 400
    assert stored() == 0


async def test_limits_are_configurable(make_app: Any, make_client: Any) -> None:
    client = make_client(make_app(intake={"max_labels": 2}))
    assert (await client.post(GENERIC, json={"alerts": [alert(a="1", b="2")]})).status_code == 400
    assert (await client.post(GENERIC, json={"alerts": [alert(a="1")]})).status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/api/v1/incidents/{HUGE}"),
    ("POST", f"/api/v1/incidents/{HUGE}/ack"),
    ("POST", f"/api/v1/incidents/{HUGE}/resolve"),
    ("GET", f"/api/v1/alerts?incident_id={HUGE}"),
    ("GET", f"/api/v1/notifications?incident_id={HUGE}"),
    ("GET", f"/api/v1/actions/{HUGE}"),
    ("POST", f"/api/v1/actions/{HUGE}/approve"),
    ("POST", f"/api/v1/actions/{HUGE}/apply"),
    ("GET", f"/api/v1/inspections/{HUGE}"),
    ("GET", f"/api/v1/incidents/{2**31}"),
])
async def test_out_of_range_ids_are_4xx_not_500(client: httpx.AsyncClient, method: str, path: str) -> None:
    resp = await client.request(method, path, json={"by": "alice", "reason": "x", "comment": ""})
    assert resp.status_code in (404, 422), resp.text
