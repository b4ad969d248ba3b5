"""Every state-changing request is audited with the authenticated actor and the credential that proved it.

The incident, silence, knowledge-base, inspection and login routes write to the tamper-evident audit
log in the change's own transaction: the actor is the principal behind the token (never a name from
the body) and the payload names the credential (``token:<key>``, ``session:<key>``, ``password``), as
remediation entries do. A table over the OpenAPI document makes every new mutating route choose:
audited, or exempt with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.routing import APIRoute

from steadyops.app import App
from steadyops.auth.deps import SESSION_COOKIE
from steadyops.contracts.checks import Check
from steadyops.core.inventory import Target
from steadyops.core.models import Alert, CheckResult, CheckStatus
from steadyops.plugins import Registry
from steadyops.server import create_server
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import AuditRow
from steadyops.testing.auth import admin_token, token_for
from steadyops.web import ROUTERS
from steadyops.web.render import csrf_token

PASSWORD = "pa55word-for-tests"

#: each mutating operation, and the audit kind it writes
AUDITED: dict[str, str] = {
    "POST /api/v1/incidents/{incident_id}/ack": "incident_acknowledged",
    "POST /api/v1/incidents/{incident_id}/resolve": "incident_resolved",
    "POST /api/v1/silences": "silence_created",
    "PUT /api/v1/silences/{silence_id}": "silence_updated",
    "DELETE /api/v1/silences/{silence_id}": "silence_expired",
    "POST /api/v1/kb/documents": "kb_document_added",
    "DELETE /api/v1/kb/documents": "kb_document_removed",
    "POST /api/v1/inspections": "inspection_run",
    "POST /api/v1/auth/login": "login",
    "POST /api/v1/auth/logout": "logout",
    "POST /api/v1/auth/tokens": "token_created",
    "DELETE /api/v1/auth/tokens/{key}": "token_revoked",
    "POST /api/v1/auth/principals": "principal_created",
    "PATCH /api/v1/auth/principals/{name}": "principal_updated",
    "POST /api/v1/actions": "planned",
    "POST /api/v1/actions/{run_id}/approve": "approved",
    "POST /api/v1/actions/{run_id}/reject": "rejected",
    "POST /api/v1/actions/{run_id}/apply": "applied",
    "POST /api/v1/oncall/ack": "incident_acknowledged",
    "POST /api/v1/changes": "maintenance_silences",
    "POST /api/v1/changes/gitlab": "maintenance_silences",
    "POST /api/v1/changes/jenkins": "maintenance_silences",
    "POST /api/v1/changes/argocd": "maintenance_silences",
}
#: mutating by method but not a decision anyone makes: why each is not audited
EXEMPT: dict[str, str] = {
    "POST /api/v1/alerts": "alert intake: a data feed, journalled with its source; high volume",
    "POST /api/v1/alerts/alertmanager": "alert intake: a data feed, journalled with its source; high volume",
    "POST /api/v1/chat": "answers questions; a command it runs is audited by its own path (plans: 'planned')",
    "POST /api/v1/chat/stream": "as /api/v1/chat",
    "POST /api/v1/changes/assess": "read-only: scores a proposed change, stores nothing",
    "POST /api/v1/canary/compare": "read-only: compares two metric sets, stores nothing",
}


class Alive(Check):
    name: ClassVar[str] = "demo.alive"
    target_kind: ClassVar[str] = "demo"

    async def run(self, target: Target) -> CheckResult:
        return CheckResult(status=CheckStatus.OK, summary="answers")


@pytest.fixture
def app(make_app: Any, tmp_path: Path) -> App:
    """One target with one check, so an on-demand inspection has something to run."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("targets:\n  - {name: d1, kind: demo, address: '127.0.0.1:1'}\n")
    registry = Registry()
    registry.add_check(Alive)
    built: App = make_app(registry=registry, inventory=inventory)
    return built


def test_every_mutating_route_is_audited_or_exempt_with_a_reason(app: App) -> None:
    spec = create_server(app, run_pipeline=False).openapi()
    mutating = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
                if method in ("post", "put", "patch", "delete")}
    unclassified = mutating - set(AUDITED) - set(EXEMPT)
    assert not unclassified, f"classify these routes in AUDITED (with a test) or EXEMPT (with a reason): {unclassified}"
    assert not (set(AUDITED) | set(EXEMPT)) - mutating, "stale entries in the tables"


#: the console's own form posts: audited (through the same functions as the API) or exempt, with why
CONSOLE_AUDITED = {"/incidents/{incident_id:int}/{verb}", "/silences", "/silences/{silence_id}/expire", "/kb/upload",
                   "/inspections/run", "/actions/plan", "/actions/{run_id:int}/decide",
                   "/actions/{run_id:int}/apply", "/login", "/logout"}
CONSOLE_EXEMPT = {"/silences/preview": "read-only: shows what the matchers would mute",
                  "/lang": "sets the reader's language cookie", "/chat/stream": "as /api/v1/chat"}


def test_every_console_form_post_is_audited_or_exempt() -> None:
    posts = {r.path for module in ROUTERS for r in module.router.routes
             if isinstance(r, APIRoute) and "POST" in r.methods}
    assert posts == CONSOLE_AUDITED | set(CONSOLE_EXEMPT), posts ^ (CONSOLE_AUDITED | set(CONSOLE_EXEMPT))


def entries(app: App, after: int = 0) -> list[AuditRow]:
    return [e for e in app.audit.entries() if e.seq > after]


def key_of(token: str) -> str:
    return token.split("_")[1]  # so_<key>_<secret>


async def seed_incident(app: App, name: str = "DiskFull") -> int:
    now = app.clock.now()
    with app.store.transaction() as s:
        alerts_repo.insert_events(s, [Alert(labels={"alertname": name, "instance": "web-1"}, starts_at=now)], now)
    app.pipeline.process_sync()
    with app.store.transaction() as s:
        return incidents_repo.list_rows(s, limit=1)[0].id


async def test_ack_and_resolve_name_the_actor_and_the_token(app: App, make_client: Any) -> None:
    alice = token_for(app, "alice", "responder")
    client = make_client(app, alice)
    incident = await seed_incident(app)
    start = len(app.audit.entries())
    r = await client.post(f"/api/v1/incidents/{incident}/ack", json={"comment": "on it"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "alice"
    assert (await client.post(f"/api/v1/incidents/{incident}/ack", json={})).status_code == 200  # a no-op
    assert (await client.post(f"/api/v1/incidents/{incident}/resolve", json={"comment": "fixed"})).status_code == 200
    got = [(e.actor, e.kind, e.subject, e.payload) for e in entries(app, start)]
    cred = f"token:{key_of(alice)}"
    assert got == [
        ("alice", "incident_acknowledged", f"incident {incident}", {"comment": "on it", "credential": cred}),
        ("alice", "incident_resolved", f"incident {incident}", {"comment": "fixed", "credential": cred}),
    ]
    assert app.audit.verify().ok


async def test_silences_are_audited_with_what_they_match(app: App, make_client: Any) -> None:
    bob = token_for(app, "bob", "responder")
    client = make_client(app, bob)
    start = len(app.audit.entries())
    made = await client.post("/api/v1/silences", json={"matchers": [{"name": "alertname", "op": "=~", "value": ".*"}],
                                                        "duration": "1h", "comment": "maintenance"})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert (await client.put(f"/api/v1/silences/{sid}", json={"duration": "2h"})).status_code == 200
    assert (await client.delete(f"/api/v1/silences/{sid}")).status_code == 200
    got = entries(app, start)
    assert [(e.actor, e.kind, e.subject) for e in got] == [
        ("bob", "silence_created", f"silence {sid}"), ("bob", "silence_updated", f"silence {sid}"),
        ("bob", "silence_expired", f"silence {sid}")]
    assert all(e.payload["credential"] == f"token:{key_of(bob)}" for e in got)
    assert got[0].payload["matchers"] == ['alertname=~".*"'] and got[0].payload["comment"] == "maintenance"


async def test_kb_inspections_and_logins_are_audited(app: App, make_client: Any) -> None:
    admin = admin_token(app)
    client = make_client(app, admin)
    token_for(app, "carol", "viewer", password=PASSWORD)
    start = len(app.audit.entries())
    added = await client.post("/api/v1/kb/documents", json={"name": "oncall/disk.md", "text": "# Disk full\n\nclean"})
    assert added.status_code == 201, added.text
    assert (await client.delete("/api/v1/kb/documents", params={"name": "oncall/disk.md"})).status_code == 200
    ran = await client.post("/api/v1/inspections", json={})
    assert ran.status_code == 201, ran.text
    run_id = ran.json()["run"]["id"]
    login = await make_client(app, "").post("/api/v1/auth/login", json={"username": "carol", "password": PASSWORD})
    assert login.status_code == 200
    session = login.json()
    out = await make_client(app, session["token"]).post("/api/v1/auth/logout")
    assert out.status_code == 200
    got = [(e.actor, e.kind, e.subject, e.payload.get("credential")) for e in entries(app, start)]
    assert got == [
        ("admin", "kb_document_added", "kb oncall/disk.md", f"token:{key_of(admin)}"),
        ("admin", "kb_document_removed", "kb oncall/disk.md", f"token:{key_of(admin)}"),
        ("admin", "inspection_run", f"inspection {run_id}", f"token:{key_of(admin)}"),
        ("carol", "login", f"session {session['key']}", "password"),
        ("carol", "logout", f"session {session['key']}", f"session:{session['key']}"),
    ]


@pytest.fixture
async def console(app: App) -> Any:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_server(app, run_pipeline=False)),
                               base_url="http://console.test", headers={"Accept": "text/html"}, follow_redirects=False)
    yield client
    await client.aclose()


async def test_the_console_audits_with_the_session(app: App, console: httpx.AsyncClient) -> None:
    token_for(app, "dana", "responder", password=PASSWORD)
    incident = await seed_incident(app)
    start = len(app.audit.entries())
    r = await console.post("/login", data={"username": "dana", "password": PASSWORD, "next": "/"})
    assert r.status_code == 303
    csrf = csrf_token(console.cookies[SESSION_COOKIE])
    for verb, comment in (("comment", "looking"), ("ack", ""), ("resolve", "done")):
        r = await console.post(f"/incidents/{incident}/{verb}", data={"comment": comment, "csrf": csrf})
        assert r.status_code == 303, r.text
    r = await console.post("/silences", data={"matchers": 'instance="web-1"', "duration": "1h", "csrf": csrf})
    assert r.status_code == 303, r.text
    got = entries(app, start)
    [login, *acts] = got
    session = login.subject.removeprefix("session ")
    assert (login.actor, login.kind, login.payload["credential"]) == ("dana", "login", "password")
    assert [(e.actor, e.kind, e.payload["credential"]) for e in acts] == [
        ("dana", kind, f"session:{session}")
        for kind in ("incident_comment", "incident_acknowledged", "incident_resolved", "silence_created")]
