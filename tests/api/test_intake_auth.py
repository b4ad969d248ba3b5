"""Intake as senders see it: the ways Alertmanager's ``http_config`` can authenticate, a sender token
that can do nothing else, and JSON only (no cross-site form or text/plain posts)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from steadyops.app import App
from steadyops.testing.auth import bearer, token_for
from tests.api.conftest import ANON, ClientFactory

BODY = json.dumps({"alerts": [{"labels": {"alertname": "DiskFull", "instance": "db-1"}}]})
JSON = {"content-type": "application/json"}


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


async def test_sender_credentials(app: App, make_client: ClientFactory, stored: Callable[[], int]) -> None:
    sender = token_for(app, "alertmanager", "ingest", kind="service")
    client = make_client(app, token=ANON)
    assert (await client.post("/api/v1/alerts", content=BODY, headers=JSON)).status_code == 401
    assert stored() == 0
    r = await client.post("/api/v1/alerts", content=BODY, headers={**JSON, **bearer(sender)})
    assert r.status_code == 200 and r.json()["new"] == 1
    # basic_auth with the token as the password (Alertmanager's http_config.basic_auth)
    other = BODY.replace("db-1", "db-2")
    r = await client.post("/api/v1/alerts", content=other, headers={**JSON, **basic("alertmanager", sender)})
    assert r.status_code == 200 and r.json()["new"] == 1
    # the sender's token reads and changes nothing else
    for method, path in (("GET", "/api/v1/incidents"), ("GET", "/api/v1/alerts"), ("POST", "/api/v1/silences")):
        r = await client.request(method, path, headers=bearer(sender), json={} if method == "POST" else None)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden", (path, r.text)
    # a user's password works as basic auth too; a wrong one does not
    token_for(app, "ops", "admin", password="correct horse battery")
    r = await client.get("/api/v1/incidents", headers=basic("ops", "correct horse battery"))
    assert r.status_code == 200
    r = await client.get("/api/v1/incidents", headers=basic("ops", "wrong horse battery"))
    assert r.status_code == 401 and r.json()["detail"] == "wrong user name or password"
    r = await client.get("/api/v1/incidents", headers={"Authorization": "Digest x"})
    assert r.status_code == 401 and "Bearer or Basic" in r.json()["detail"]
    assert stored() == 2


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None])
async def test_intake_takes_json_only(client: httpx.AsyncClient, ctype: str | None,
                                      stored: Callable[[], int]) -> None:
    for path in ("/api/v1/alerts", "/api/v1/alerts/alertmanager"):
        r = await client.post(path, content=BODY, headers={"content-type": ctype} if ctype else {})
        assert r.status_code == 415 and "application/json" in r.json()["detail"], r.text
    assert stored() == 0
    r = await client.post("/api/v1/alerts", content=BODY, headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200
