"""Change intake: generic JSON and the GitLab / Jenkins / Argo CD shapes, idempotent, 4xx on bad input."""

from __future__ import annotations

from typing import Any

import httpx

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.store.operations import ChangeRow

BASE = "/api/v1/changes"


def _count(app: App) -> int:
    with app.store.transaction() as s:
        return s.query(ChangeRow).count()


async def test_generic_change_is_stored_once(app: App, client: httpx.AsyncClient) -> None:
    body = {"id": "CHG-1", "title": "api v2.3.1", "targets": ["api"], "author": "alice",
            "ticket": "https://jira.example/OPS-1", "rollback_plan": "helm rollback api 41",
            "started_at": "2026-01-01T00:00:00Z"}
    first = await client.post(BASE, json=body)
    assert first.status_code == 201, first.text
    out = first.json()
    assert out["stored"] is True and out["change"]["source"] == "generic"
    assert out["change"]["external_id"] == "CHG-1" and out["change"]["author"] == "alice"
    again = await client.post(BASE, json=body)
    assert again.json()["stored"] is False and again.json()["change"]["id"] == out["change"]["id"]
    assert _count(app) == 1
    listed = (await client.get(BASE)).json()
    assert [c["title"] for c in listed] == ["api v2.3.1"]
    assert (await client.get(f"{BASE}/{out['change']['id']}")).json()["rollback_plan"] == "helm rollback api 41"
    assert (await client.get(f"{BASE}/nope")).status_code == 404


async def test_bad_changes_are_refused_and_nothing_is_stored(app: App, client: httpx.AsyncClient) -> None:
    for body, needle in [({"title": "x"}, "targets or a service"), ({"targets": ["api"]}, "title"),
                         ({"title": "x", "targets": ["api"], "status": "done"}, "status"),
                         ({"title": "x", "targets": ["api"], "started_at": "2026-01-02T00:00:00Z",
                           "finished_at": "2026-01-01T00:00:00Z"}, "before")]:
        resp = await client.post(BASE, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert needle in resp.json()["detail"]
    assert (await client.post(BASE, content=b"{not json", headers={"Content-Type": "application/json"})).status_code \
        == 400
    for kind in ("text/plain", "application/x-www-form-urlencoded", ""):  # what a web page could post cross-site
        sent = await client.post(f"{BASE}/argocd", content=b'{"title": "x", "targets": ["api"]}',
                                 headers={"Content-Type": kind} if kind else {})
        assert sent.status_code == 415, (kind, sent.text)
    assert (await client.post(f"{BASE}/gitlab", json={"object_kind": "push"})).status_code == 400
    assert (await client.post(f"{BASE}/jenkins", json={"name": "deploy"})).status_code == 400
    assert (await client.post(f"{BASE}/argocd", json={"app": {"metadata": {"name": "x"}}})).status_code == 400
    assert _count(app) == 0


def _gitlab_pipeline(status: str, finished: str | None) -> dict[str, Any]:
    return {"object_kind": "pipeline",
            "object_attributes": {"id": 31, "ref": "main", "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
                                  "status": status, "created_at": "2026-01-01 00:00:10 UTC",
                                  "finished_at": finished},
            "user": {"name": "Administrator", "username": "root"},
            "project": {"id": 1, "name": "Gitlab Test", "path_with_namespace": "gitlab-org/gitlab-test",
                        "web_url": "http://192.168.64.1:3005/gitlab-org/gitlab-test"},
            "commit": {"title": "test", "message": "test\n"}}


async def test_gitlab_pipeline_updates_one_change(app: App, client: httpx.AsyncClient) -> None:
    running = await client.post(f"{BASE}/gitlab", params={"target": "api"}, json=_gitlab_pipeline("running", None))
    assert running.status_code == 201, running.text
    done = await client.post(f"{BASE}/gitlab", params={"target": "api"},
                             json=_gitlab_pipeline("success", "2026-01-01 00:05:10 UTC"))
    change = done.json()["change"]
    assert change["id"] == running.json()["change"]["id"] and _count(app) == 1
    assert change["status"] == "succeeded" and change["author"] == "root" and change["targets"] == ["api"]
    assert change["started_at"].startswith("2026-01-01T00:00:10") and change["finished_at"].startswith(
        "2026-01-01T00:05:10")
    assert change["url"].endswith("/-/pipelines/31") and change["revision"].startswith("bcbb5ec")


async def test_gitlab_deployment_jenkins_and_argocd(app: App, client: httpx.AsyncClient) -> None:
    dep = await client.post(f"{BASE}/gitlab", json={
        "object_kind": "deployment", "status": "success", "deployment_id": 15, "deployable_id": 796,
        "deployable_url": "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
        "environment": "staging", "status_changed_at": "2026-01-01 00:01:00 +0000", "short_sha": "279484c0",
        "commit_title": "Add new file", "project": {"id": 30, "name": "test-deployment-webhooks",
                                                    "path_with_namespace": "root/test-deployment-webhooks"},
        "user": {"username": "root"}})
    assert dep.status_code == 201, dep.text
    assert dep.json()["change"]["targets"] == ["staging"] and dep.json()["change"]["revision"] == "279484c0"
    jen = await client.post(f"{BASE}/jenkins", json={
        "name": "deploy-api", "url": "job/deploy-api/",
        "build": {"full_url": "http://ci/job/deploy-api/7/", "number": 7, "phase": "COMPLETED", "status": "SUCCESS",
                  "scm": {"commit": "abc123", "branch": "origin/main"},
                  "parameters": {"TARGETS": "api,db", "TICKET": "OPS-9", "TRIGGERED_BY": "bob"}}})
    assert jen.status_code == 201, jen.text
    c = jen.json()["change"]
    assert (c["targets"], c["ticket"], c["author"], c["status"]) == (["api", "db"], "OPS-9", "bob", "succeeded")
    argo = await client.post(f"{BASE}/argocd", json={"app": {
        "metadata": {"name": "guestbook", "namespace": "argocd",
                     "annotations": {"steadyops.io/targets": "web", "steadyops.io/ticket": "OPS-10"}},
        "spec": {"destination": {"namespace": "prod"}},
        "status": {"operationState": {"phase": "Succeeded", "startedAt": "2026-01-01T00:02:00Z",
                                      "finishedAt": "2026-01-01T00:03:00Z",
                                      "syncResult": {"revision": "a1b2c3d4e5f6a7b8"},
                                      "operation": {"initiatedBy": {"username": "carol"}}}}}})
    assert argo.status_code == 201, argo.text
    a = argo.json()["change"]
    assert (a["targets"], a["author"], a["ticket"], a["environment"]) == (["web"], "carol", "OPS-10", "prod")
    assert _count(app) == 3


async def test_approved_change_silences_its_targets_until_it_finishes(app: App, client: httpx.AsyncClient,
                                                                       fake_clock: FakeClock) -> None:
    now = fake_clock.now()
    body = {"id": "CHG-7", "title": "db minor upgrade", "targets": ["db"], "status": "approved",
            "approved_by": "dana", "planned_start": now.isoformat(),
            "planned_end": (now.replace(hour=2)).isoformat()}
    out = (await client.post(BASE, json=body)).json()
    assert len(out["silences"]) == 2  # target="db" and instance=~"10\.0\.0\.5(:[0-9]+)?"
    silences = (await client.get("/api/v1/silences")).json()
    assert {tuple(s["matchers_text"]) for s in silences} == {('target="db"',),
                                                             ('instance=~"10\\.0\\.0\\.5(:[0-9]+)?"',)}
    assert all(s["state"] == "active" for s in silences)
    # an alert from db during the window is muted
    await client.post("/api/v1/alerts", json={"alerts": [{"labels": {"alertname": "Down", "instance": "10.0.0.5:9100"},
                                                          "starts_at": now.isoformat()}]})
    app.pipeline.process_sync()
    [alert] = (await client.get("/api/v1/alerts")).json()
    assert alert["muted_by"]
    # the change reports it is done: the window closes now, not at the planned end
    fake_clock.advance(600)
    await client.post(BASE, json={**body, "status": "succeeded"})
    assert all(s["state"] == "expired" for s in (await client.get("/api/v1/silences")).json())
    await client.post(BASE, json={**body, "status": "succeeded"})  # re-delivered: nothing new to audit
    # the sender's token set and lifted those silences: audited like a silence made by hand
    audited = [e for e in app.audit.entries() if e.kind == "maintenance_silences"]
    ids = out["silences"]
    assert [(e.actor, e.payload["created"], e.payload["expired"]) for e in audited] == [
        ("admin", ids, []), ("admin", [], ids)]
    assert all(e.payload["credential"].startswith("token:") for e in audited)
