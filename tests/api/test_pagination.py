"""Paginated incident and alert lists: pages cover everything once, counts without loading alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import inspect

from steadyops.app import App
from steadyops.store.tables import AlertRow, IncidentRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seed(app: App, incidents: int, alerts_each: int) -> None:
    with app.store.transaction() as s:
        for i in range(incidents):
            row = IncidentRow(title=f"incident {i}", status="open" if i % 3 else "resolved", severity="warning",
                              labels={}, group_keys=[], first_alert_at=T0, opened_at=T0, last_alert_at=T0)
            s.add(row)
            s.flush()
            for j in range(alerts_each):
                s.add(AlertRow(fingerprint=f"{row.id:08x}{j:08x}", labels={"alertname": "A", "n": str(j)},
                               annotations={}, status="firing" if j % 2 else "resolved", starts_at=T0,
                               source="api", updated_at=T0 + timedelta(seconds=(i * alerts_each + j) % 7),
                               muted_by=[], incident_id=row.id))


async def walk(client: httpx.AsyncClient, path: str, **params: object) -> list[list[dict[str, object]]]:
    pages, cursor = [], None
    while True:
        resp = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text
        pages.append(resp.json())
        cursor = resp.headers.get("x-next-cursor")
        if cursor is None:
            return pages


async def test_incident_pages_cover_every_incident_once_with_counts(app: App, client: httpx.AsyncClient) -> None:
    seed(app, incidents=23, alerts_each=5)
    pages = await walk(client, "/api/v1/incidents", limit=10)
    ids = [i["id"] for page in pages for i in page]
    assert [len(p) for p in pages] == [10, 10, 3] and ids == sorted(ids, reverse=True) and len(set(ids)) == 23
    assert all(i["alert_count"] == 5 and i["firing_count"] == 2 for page in pages for i in page)
    open_ids = [i["id"] for page in await walk(client, "/api/v1/incidents", limit=4, status="open") for i in page]
    assert len(open_ids) == 15 and open_ids == sorted(open_ids, reverse=True)


async def test_alert_pages_cover_every_alert_once_at_any_depth(app: App, client: httpx.AsyncClient) -> None:
    seed(app, incidents=6, alerts_each=9)  # many share an updated_at: ties are broken by fingerprint
    pages = await walk(client, "/api/v1/alerts", limit=7)
    fps = [a["fingerprint"] for page in pages for a in page]
    assert len(fps) == 54 and len(set(fps)) == 54
    firing = [a for page in await walk(client, "/api/v1/alerts", limit=5, status="firing") for a in page]
    assert len(firing) == 24 and all(a["status"] == "firing" for a in firing)
    one = [a for page in await walk(client, "/api/v1/alerts", limit=4, incident_id=2) for a in page]
    assert {a["incident_id"] for a in one} == {2} and len(one) == 9


async def test_a_forged_cursor_is_a_400(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/alerts", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert resp.status_code == 400 and "cursor" in resp.json()["detail"]


def test_the_list_indexes_exist(app: App) -> None:
    names = {ix["name"] for table in ("alerts", "incidents") for ix in inspect(app.store.engine).get_indexes(table)}
    assert {"ix_incidents_status_id", "ix_alerts_updated_fp", "ix_alerts_status_updated_fp",
            "ix_alerts_incident_updated_fp", "ix_alerts_incident_status"} <= names
