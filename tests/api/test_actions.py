"""Remediation over HTTP: the same plan → approve → apply flow, with refusals as 403."""

from __future__ import annotations

from typing import Any

import httpx

from steadyops.api import create_api


async def test_propose_approve_apply_verify_over_http(remediation_app: Any) -> None:
    app = remediation_app
    transport = httpx.ASGITransport(app=create_api(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        catalog = (await client.get("/api/v1/actions/catalog")).json()
        assert [c["name"] for c in catalog] == ["host.clean_logs"]
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "127.0.0.1",
                                                        "params": {"paths": [str(app.test_logs)]},
                                                        "requested_by": "dave"})
        assert r.status_code == 201, r.text
        run = r.json()
        assert run["target"] == "web-1" and run["status"] == "pending_approval"
        r = await client.post(f"/api/v1/actions/{run['id']}/apply", json={"by": "dave"})
        assert r.status_code == 403 and "approval" in r.json()["detail"]
        for who in ("alice", "bob"):
            r = await client.post(f"/api/v1/actions/{run['id']}/approve",
                                  json={"by": who, "reason": "disk at 95%", "plan_hash": run["plan_hash"]})
            assert r.status_code == 200
        r = await client.post(f"/api/v1/actions/{run['id']}/apply", json={"by": "dave"})
        assert r.status_code == 200 and r.json()["ok"] and r.json()["bytes_freed"] == 5 * 4096
        shown = (await client.get(f"/api/v1/actions/{run['id']}")).json()
        assert shown["status"] == "succeeded" and len(shown["approvals"]) == 2
        verdict = (await client.get("/api/v1/audit/verify")).json()
        assert verdict["ok"] and verdict["entries"] >= 5
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "web-1",
                                                        "params": {"paths": ["/etc"]}, "requested_by": "dave"})
        assert r.status_code == 403 and "allow-list" in r.json()["detail"]
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logs", "target": "web-1",
                                                        "params": {"paths": 5}, "requested_by": "dave"})
        assert r.status_code == 400
        r = await client.post("/api/v1/actions", json={"action": "host.clean_logz", "target": "web-1",
                                                        "params": {}, "requested_by": "dave"})
        assert r.status_code == 400 and "clean_logs" in r.json()["detail"]
