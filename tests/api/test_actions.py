"""Remediation over HTTP: plan → approve → apply with real identities; refusals as 403.

Four eyes counts distinct authenticated people: the name in each approval, the requester and the
applier all come from the bearer token, never from the body (a ``by`` in the body is ignored).
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from steadyops.server import create_server
from steadyops.store.tables import AuditRow
from steadyops.testing.auth import bearer, token_for


async def test_propose_approve_apply_verify_over_http(remediation_app: Any) -> None:
    app = remediation_app
    dave, alice, bob = (token_for(app, n, r) for n, r in (("dave", "responder"), ("alice", "approver"),
                                                          ("bob", "approver")))
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(dave)) as client:
        catalog = (await client.get("/api/v1/actions/catalog")).json()
        assert [c["name"] for c in catalog] == ["host.clean_logs"]
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "127.0.0.1",
                                                        "params": {"paths": [str(app.test_logs)]},
                                                        "requested_by": "mallory"})  # ignored: the token speaks
        assert r.status_code == 201, r.text
        run = r.json()
        assert run["target"] == "web-1" and run["status"] == "pending_approval" and run["requested_by"] == "dave"
        r = await client.post(f"/api/v1/actions/{run['id']}/apply", json={})
        assert r.status_code == 403 and "approval" in r.json()["detail"]
        r = await client.post(f"/api/v1/actions/{run['id']}/approve", json={"by": "alice"})
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"  # dave is a responder
        for who in (alice, alice, bob):  # alice twice still counts once
            r = await client.post(f"/api/v1/actions/{run['id']}/approve", headers=bearer(who),
                                  json={"by": "someone-else", "reason": "disk at 95%", "plan_hash": run["plan_hash"]})
            assert r.status_code == 200, r.text
            if who is alice:
                assert r.json()["status"] == "pending_approval"
        assert r.json()["status"] == "approved"
        assert sorted({a["approver"] for a in r.json()["approvals"]}) == ["alice", "bob"]
        r = await client.post(f"/api/v1/actions/{run['id']}/apply", json={"by": "mallory"})
        assert r.status_code == 200 and r.json()["ok"] and r.json()["bytes_freed"] == 5 * 4096
        shown = (await client.get(f"/api/v1/actions/{run['id']}")).json()
        assert shown["status"] == "succeeded" and len(shown["approvals"]) == 3
        verdict = (await client.get("/api/v1/audit/verify")).json()
        assert verdict["ok"] and verdict["entries"] >= 5
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "web-1",
                                                        "params": {"paths": ["/etc"]}})
        assert r.status_code == 403 and "allow-list" in r.json()["detail"]
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "web-1",
                                                        "params": {"paths": 5}})
        assert r.status_code == 400
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logz", "target": "web-1",
                                                        "params": {}})
        assert r.status_code == 400 and "clean_logs" in r.json()["detail"]
    with app.store.transaction() as s:
        entries = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
    actors = [(e.actor, e.kind) for e in entries]
    assert ("dave", "planned") in actors and ("alice", "approve") in actors and ("bob", "approve") in actors
    assert ("dave", "succeeded") in actors and "mallory" not in {a for a, _ in actors}
    for e in entries:
        assert e.payload.get("credential", "").startswith("token:"), (e.actor, e.kind, e.payload)


async def test_four_eyes_needs_two_people_neither_the_requester(remediation_app: Any) -> None:
    app = remediation_app
    carol, alice = token_for(app, "carol", "approver"), token_for(app, "alice", "approver")
    robot = token_for(app, "robot", "approver", kind="service")
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(carol)) as client:
        run = (await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "web-1",
                                                           "params": {"paths": [str(app.test_logs)]}})).json()
        r = await client.post(f"/api/v1/actions/{run['id']}/approve", json={"plan_hash": run["plan_hash"]})
        assert r.status_code == 403 and "carol requested this action" in r.json()["detail"]
        r = await client.post(f"/api/v1/actions/{run['id']}/approve", headers=bearer(robot), json={})
        assert r.status_code == 403 and "service account" in r.json()["detail"]
        r = await client.post(f"/api/v1/actions/{run['id']}/approve", headers=bearer(alice), json={})
        assert r.json()["status"] == "pending_approval"  # one person is not four eyes
        r = await client.post(f"/api/v1/actions/{run['id']}/apply", headers=bearer(alice), json={})
        assert r.status_code == 403 and "needs 2 approval(s)" in r.json()["detail"]
