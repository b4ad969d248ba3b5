"""The console's pages over ASGI: who may see and do what, CSRF, languages, escaping.

The browser behaviour (live updates, four eyes, chat streaming) is in
``tests/integration/test_console_browser.py``; these tests are fast and cover every route.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from steadyops.app import App
from steadyops.auth import Role
from steadyops.auth.deps import SESSION_COOKIE
from steadyops.core.models import Alert
from steadyops.server import create_server
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import IncidentRow
from steadyops.testing.auth import token_for
from steadyops.web import ROUTERS
from steadyops.web.kb import highlight
from steadyops.web.messages import CONSOLE
from steadyops.web.render import csrf_token, pick_lang

PASSWORD = "pa55word-for-tests"


@pytest.fixture
def app(make_app: Any) -> App:
    built: App = make_app()
    return built


@pytest.fixture
async def browser(app: App) -> AsyncIterator[Any]:
    """``browser(role)``: an ASGI client holding a real console session for a user with ``role``."""
    clients: list[httpx.AsyncClient] = []
    api = create_server(app, run_pipeline=False)

    async def _make(role: str | None, lang: str = "en") -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://console.test",
                                   headers={"Accept": "text/html", "Accept-Language": lang}, follow_redirects=False)
        clients.append(client)
        if role is not None:
            name = f"user-{role}"
            token_for(app, name, role, password=PASSWORD)
            r = await client.post("/login", data={"username": name, "password": PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text
        return client

    yield _make
    for c in clients:
        await c.aclose()


def csrf(client: httpx.AsyncClient) -> str:
    return csrf_token(client.cookies[SESSION_COOKIE])


async def seed_incident(app: App, name: str = "DiskFull") -> int:
    now = app.clock.now()
    alert = Alert(labels={"alertname": name, "instance": "web-1", "severity": "critical"},
                  annotations={"summary": f"{name} <b>bold</b>"}, starts_at=now)
    with app.store.transaction() as s:
        alerts_repo.insert_events(s, [alert], now)
    app.pipeline.process_sync()
    app.clock.advance(31)  # type: ignore[attr-defined]
    await app.pipeline.tick()
    with app.store.transaction() as s:
        found = s.scalar(select(IncidentRow.id).order_by(IncidentRow.id.desc()))
    assert found is not None
    return int(found)


def console_routes() -> list[APIRoute]:
    """Every console route (the routers the console mounts), bar the sign-in pages and /docs."""
    return [r for module in ROUTERS for r in module.router.routes if isinstance(r, APIRoute)
            and r.path not in ("/login", "/logout", "/lang", "/docs")]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path).replace(":int", "")


async def test_every_console_route_needs_a_signed_in_user(app: App, browser: Any) -> None:
    anon = await browser(None)
    routes = console_routes()
    assert len(routes) >= 15
    for route in routes:
        for method in route.methods:
            r = await anon.request(method, concrete(route.path))
            if method == "GET":
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (route.path, r.status_code)
            else:
                assert r.status_code in (401, 303, 403), (route.path, method, r.status_code)


async def test_dashboard_shows_user_and_role(browser: Any) -> None:
    c = await browser("responder")
    r = await c.get("/")
    assert r.status_code == 200
    assert "user-responder" in r.text and 'data-testid="user-role">responder<' in r.text


async def test_viewer_sees_no_buttons_and_cannot_post(app: App, browser: Any) -> None:
    incident = await seed_incident(app)
    viewer = await browser("viewer")
    page = await viewer.get(f"/incidents/{incident}")
    assert page.status_code == 200
    assert 'data-testid="ack"' not in page.text
    r = await viewer.post(f"/incidents/{incident}/ack", data={"csrf": csrf(viewer)})
    assert r.status_code == 403
    responder = await browser("responder")
    assert 'data-testid="ack"' in (await responder.get(f"/incidents/{incident}")).text


async def test_ack_takes_the_identity_and_needs_the_csrf_token(app: App, browser: Any) -> None:
    incident = await seed_incident(app)
    c = await browser("responder")
    assert (await c.post(f"/incidents/{incident}/ack", data={"comment": "on it"})).status_code == 403
    r = await c.post(f"/incidents/{incident}/ack", data={"comment": "on it", "csrf": csrf(c)})
    assert r.status_code == 303
    page = await c.get(f"/incidents/{incident}")
    assert "acknowledged by user-responder" in page.text


async def test_untrusted_text_is_escaped(app: App, browser: Any) -> None:
    incident = await seed_incident(app, "Inject")
    c = await browser("viewer")
    page = await c.get(f"/incidents/{incident}")
    assert "<b>bold</b>" not in page.text and "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert str(highlight("<script>disk</script>", ["disk"])) == "&lt;script&gt;<mark>disk</mark>&lt;/script&gt;"


async def test_language_follows_choice_then_browser(browser: Any) -> None:
    c = await browser("viewer", lang="zh-CN,zh;q=0.9,en;q=0.5")
    assert "运行总览" in (await c.get("/")).text
    r = await c.post("/lang", data={"lang": "en", "next": "/"})
    assert r.status_code == 303
    assert "Overview" in (await c.get("/")).text


def test_pick_lang_orders_by_quality() -> None:
    class Req:
        def __init__(self, header: str) -> None:
            self.headers = {"accept-language": header}
            self.cookies: dict[str, str] = {}

    assert pick_lang(Req("en;q=0.4, zh-CN;q=0.8"), "en") == "zh"  # type: ignore[arg-type]
    assert pick_lang(Req("fr, en-GB"), "zh") == "en"  # type: ignore[arg-type]
    assert pick_lang(Req(""), "zh") == "zh"  # type: ignore[arg-type]


def test_every_console_string_has_both_languages() -> None:
    for key, texts in CONSOLE.items():
        assert texts.get("en") and texts.get("zh"), key
        assert set(re.findall(r"\{(\w+)\}", texts["en"])) == set(re.findall(r"\{(\w+)\}", texts["zh"])), key


async def test_login_next_cannot_leave_the_site(browser: Any, app: App) -> None:
    c = await browser(None)
    token_for(app, "mallory", Role.VIEWER, password=PASSWORD)
    r = await c.post("/login", data={"username": "mallory", "password": PASSWORD, "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_logout_revokes_the_session(browser: Any) -> None:
    c = await browser("viewer")
    secret = c.cookies[SESSION_COOKIE]
    assert (await c.post("/logout", data={"csrf": csrf(c)})).status_code == 303
    again = await browser(None)
    again.cookies.set(SESSION_COOKIE, secret)
    assert (await again.get("/")).status_code == 303


async def test_pages_render(app: App, browser: Any) -> None:
    incident = await seed_incident(app)
    c = await browser("admin")
    for path in ["/", "/incidents", "/incidents?status=all&severity=critical&service=web-1&since=24",
                 f"/incidents/{incident}", "/incidents/rows", "/approvals", "/audit", "/audit?verify=true",
                 "/inspections", "/topology", "/silences", "/silences/new?m=alertname%3D%22DiskFull%22",
                 "/kb", "/kb?q=disk+full", "/chat", "/docs"]:
        r = await c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert "DiskFull" in (await c.get("/incidents/rows")).text
    preview = await c.get("/silences/new?m=alertname%3D%22DiskFull%22")
    assert "1 firing alert(s) match" in preview.text
    missing = await c.get("/incidents/999999")
    assert missing.status_code == 404 and "Not found" in missing.text


async def test_docs_use_vendored_assets(browser: Any) -> None:
    c = await browser(None)
    r = await c.get("/docs")
    assert r.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in r.text and "cdn" not in r.text.lower()
    assert (await c.get("/static/swagger/swagger-ui-bundle.js")).status_code == 200
    assert (await c.get("/static/htmx.min.js")).status_code == 200


async def test_dashboard_numbers_on_postgresql(make_app: Any, pg_url: str) -> None:
    """The dashboard's per-day 1-5-10 buckets are computed in SQL: check them on both dialects."""
    from steadyops.web.dashboard import summary

    app = make_app(database_url=pg_url)
    await seed_incident(app)

    class Req:
        def __init__(self, a: App) -> None:
            self.app = type("A", (), {"state": type("S", (), {"app": a})()})()

    data = summary(Req(app))  # type: ignore[arg-type]
    assert data["open_total"] == 1 and data["noisy"] == [("DiskFull", 1)]
    assert data["attainment"][-1][1] == 0.0  # opened today, not yet recovered: not met


async def test_dashboard_says_who_is_on_call(make_app: Any, browser: Any) -> None:
    on_call = make_app(oncall={
        "users": [{"name": "oncall-alice", "receiver": "default"}],
        "schedules": [{"name": "primary", "timezone": "UTC",
                       "layers": [{"users": ["oncall-alice"], "start": "2020-01-06T09:00:00", "length": "1w"}]}]})
    api = create_server(on_call, run_pipeline=False)
    token = token_for(on_call, "watcher", Role.VIEWER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://console.test",
                                 cookies={SESSION_COOKIE: token}) as c:
        page = await c.get("/")
    assert page.status_code == 200
    assert "oncall-alice" in page.text and "primary" in page.text
