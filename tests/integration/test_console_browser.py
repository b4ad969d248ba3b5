"""The web console in a real headless Chromium (Debian's package), driven by Playwright.

A real ``steadyops serve`` runs in a subprocess with its pipeline, a local host target and a
remediation policy that needs one approver. Three people sign in from separate browser contexts:
alice (responder) plans, bob (approver) approves, victor (viewer) may only look. Every page is
screenshotted in both languages under ``.console-shots/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness.services import ServiceMissing, free_port, unavailable

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[2] / ".console-shots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
#: words that may appear in English on a Chinese page: product and protocol names, not UI text
ALLOWED_LATIN = {"steadyops", "api", "sso", "markdown", "english", "zk", "key", "value", "alertname",
                 "highcpu", "responder", "the", "of"}


def _chromium() -> str:
    if not Path(CHROMIUM).exists():
        unavailable(ServiceMissing("chromium (Debian package chromium) is not installed"))
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from steadyops.app import build_app
    from steadyops.auth import Role, identities
    from steadyops.config.settings import load_settings

    root = tmp_path_factory.mktemp("console")
    logs = root / "applogs"
    logs.mkdir()
    old = time.time() - 30 * 86400
    for i in range(3):
        f = logs / f"app-{i}.log"
        f.write_bytes(b"x" * 2048)
        os.utime(f, (old, old))
    (root / "inventory.yaml").write_text(
        "targets:\n  - {name: web-1, kind: host, address: 127.0.0.1, labels: {env: prod}, depends_on: [db-1]}\n"
        "  - {name: db-1, kind: host, address: 127.0.0.1, labels: {env: prod}}\n")
    port = free_port()
    (root / "steadyops.yaml").write_text(f"""
port: {port}
data_dir: {root / 'data'}
inventory: {root / 'inventory.yaml'}
lang: en
route: {{receiver: default, group_by: [alertname], group_wait: 1s, group_interval: 2s, repeat_interval: 1h}}
remediation:
  policies:
    - {{actions: [host.clean_logs], mode: one, approvers: [bob]}}
  allow:
    - {{actions: [host.clean_logs], paths: ['{logs}']}}
""")
    settings = load_settings(root / "steadyops.yaml")
    app = build_app(settings)
    now = app.clock.now()
    with app.store.transaction() as s:
        admin = identities.create_principal(s, "root", "user", Role.ADMIN, now, password=PASSWORD)
        token = identities.issue_token(s, admin, now, name="test").secret
        identities.create_principal(s, "alice", "user", Role.RESPONDER, now, password=PASSWORD)
        identities.create_principal(s, "bob", "user", Role.APPROVER, now, password=PASSWORD)
        identities.create_principal(s, "victor", "user", Role.VIEWER, now, password=PASSWORD)
    app.close()
    env = {**os.environ, "STEADYOPS_CONFIG": str(root / "steadyops.yaml")}
    env.pop("STEADYOPS_LANG", None)
    proc = subprocess.Popen([sys.executable, "-m", "steadyops", "serve"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"steadyops serve did not start:\n{out}")
        time.sleep(0.2)
    try:
        yield {"url": url, "token": token, "logs": logs}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def login(browser: Any, url: str, user: str, lang: str = "en", width: int = 1280) -> Any:
    ctx = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", viewport={"width": width, "height": 900},
                              extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if lang == "zh" else "en-US"})
    page = ctx.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login]")
    page.wait_for_url(f"{url}/")
    return page


def post_alert(server: dict[str, Any], **labels: str) -> None:
    body = {"alerts": [{"labels": {"severity": "critical", **labels},
                        "annotations": {"summary": f"{labels.get('alertname')} on {labels.get('instance')}"}}]}
    r = httpx.post(f"{server['url']}/api/v1/alerts", json=body,
                   headers={"Authorization": f"Bearer {server['token']}"}, timeout=10)
    assert r.status_code in (200, 201, 202), r.text


def api(server: dict[str, Any], method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{server['url']}{path}", headers={"Authorization": f"Bearer {server['token']}"},
                         timeout=30, **kw)


def test_login_shows_the_role(server: dict[str, Any], browser: Any) -> None:
    page = login(browser, server["url"], "alice")
    assert page.inner_text("[data-testid=user-role]") == "responder"
    page.context.close()


def test_wrong_password_is_refused(server: dict[str, Any], browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{server['url']}/incidents")
    assert "/login" in page.url  # anonymous → login, and back after it
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "nope")
    page.click("[data-testid=login]")
    assert page.locator(".flash.error").is_visible()
    ctx.close()


def test_new_alert_appears_without_reload(server: dict[str, Any], browser: Any) -> None:
    page = login(browser, server["url"], "alice")
    page.goto(f"{server['url']}/incidents")
    page.wait_for_selector("[data-testid=live-status].on", timeout=10_000)
    page.evaluate("window.__marker = 'same page'")
    post_alert(server, alertname="ConsoleLive", instance="shop-1")
    page.wait_for_selector("#incident-rows tr:has-text('ConsoleLive')", timeout=20_000)
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    page.click("#incident-rows a:has-text('ConsoleLive')")
    page.wait_for_selector("h1:has-text('ConsoleLive')")
    assert page.locator("[data-testid=goal-detect]").is_visible()
    page.context.close()


def test_four_eyes_plan_approve_apply_and_audit(server: dict[str, Any], browser: Any) -> None:
    alice = login(browser, server["url"], "alice")
    alice.goto(f"{server['url']}/approvals")
    alice.click("summary")
    alice.select_option("[data-testid=plan-action]", "host.clean_logs")
    alice.select_option("[data-testid=plan-target]", "web-1")
    alice.fill("[data-testid=plan-params]", f"paths={server['logs']}\nolder_than_days=1")
    alice.click("[data-testid=plan-submit]")
    alice.wait_for_selector("[data-testid=plan-hash]")
    run_url = alice.url
    assert alice.inner_text("[data-testid=requested-by]") == "alice"
    assert alice.locator("[data-testid=approve]").count() == 0  # the requester cannot approve
    assert str(server["logs"]) in alice.inner_text("table.list")

    victor = login(browser, server["url"], "victor")
    victor.goto(run_url)
    assert victor.locator("[data-testid=approve]").count() == 0
    run_id = int(run_url.rsplit("/", 1)[1].split("?")[0])
    cookie = next(c["value"] for c in victor.context.cookies() if c["name"] == "steadyops_session")
    refused = httpx.post(f"{server['url']}/api/v1/actions/{run_id}/approve", json={"reason": "me too"},
                         cookies={"steadyops_session": cookie}, timeout=10)
    assert refused.status_code == 403

    bob = login(browser, server["url"], "bob")
    bob.goto(run_url)
    bob.fill("input[name=reason]", "old logs, disk at 91%")
    bob.click("[data-testid=approve]")
    bob.wait_for_selector("[data-testid=run-status]:has-text('approved')")

    alice.goto(run_url)
    alice.click("[data-testid=apply]")
    alice.wait_for_selector("[data-testid=outcome]", timeout=30_000)
    assert alice.inner_text("[data-testid=run-status]") == "succeeded"
    assert not any(server["logs"].glob("app-*.log"))

    alice.goto(f"{server['url']}/audit")
    rows = alice.inner_text("[data-testid=audit-rows]")
    assert "alice" in rows and "bob" in rows
    alice.click("[data-testid=verify]")
    assert "intact" in alice.inner_text("[data-testid=verdict]")
    for p in (alice, bob, victor):
        p.context.close()


def test_silence_from_an_alert_mutes_the_next_one(server: dict[str, Any], browser: Any) -> None:
    post_alert(server, alertname="ConsoleNoisy", instance="shop-3")
    page = login(browser, server["url"], "alice")
    page.goto(f"{server['url']}/incidents")
    page.wait_for_selector("#incident-rows a:has-text('ConsoleNoisy')", timeout=20_000)
    page.click("#incident-rows a:has-text('ConsoleNoisy')")
    page.click("[data-testid=silence-from-alert]")
    page.wait_for_selector("[data-testid=matchers]")
    assert "ConsoleNoisy" in page.input_value("[data-testid=matchers]")
    page.wait_for_selector("[data-testid=preview-count]:has-text('1 ')")
    page.fill("[data-testid=matchers]", 'alertname="ConsoleNoisy"')
    page.click("[data-testid=create-silence]")
    page.wait_for_url(f"{server['url']}/silences")
    post_alert(server, alertname="ConsoleNoisy", instance="shop-2")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alerts = api(server, "GET", "/api/v1/alerts").json()
        items = alerts["items"] if isinstance(alerts, dict) else alerts
        fresh = [a for a in items if a["labels"].get("instance") == "shop-2"]
        if fresh and fresh[0].get("muted_by"):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the alert after the silence was not muted")
    page.context.close()


def test_chat_streams_an_answer(server: dict[str, Any], browser: Any) -> None:
    page = login(browser, server["url"], "victor")
    page.goto(f"{server['url']}/chat")
    page.fill("[data-testid=chat-q]", "what incidents are open?")
    page.click("[data-testid=chat-send]")
    page.wait_for_selector("#chat-log .turn.done", timeout=30_000)
    assert page.inner_text("[data-testid=chat-answer]").strip()
    page.context.close()


PAGES = ["/", "/incidents", "/approvals", "/inspections", "/topology", "/topology/web-1", "/silences",
         "/silences/new", "/kb?q=disk", "/chat", "/audit", "/login"]


def _latin_words(page: Any) -> list[str]:
    """Visible UI text outside code and data, as latin words (ids, names and labels are data)."""
    text: str = page.evaluate("""() => {
      const skip = 'code, pre, script, style, svg, textarea, input, select, .data, .labels, .pre, time, iframe';
      const out = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) {
        const n = walk.currentNode; const el = n.parentElement;
        if (!el || el.closest(skip) || !el.offsetParent) continue;
        out.push(n.textContent);
      }
      return out.join(' ');
    }""")
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in ALLOWED_LATIN]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_and_zh_has_no_english(server: dict[str, Any], browser: Any, lang: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page = login(browser, server["url"], "root", lang=lang)
    api(server, "POST", "/api/v1/inspections", json={"targets": ["web-1"], "checks": ["host.disk"]})
    incidents = api(server, "GET", "/api/v1/incidents").json()
    items = incidents["items"] if isinstance(incidents, dict) else incidents
    runs = api(server, "GET", "/api/v1/inspections").json()
    extra = ([f"/incidents/{items[0]['id']}"] if items else []) + ([f"/inspections/{runs[0]['id']}"] if runs else [])
    extra += ["/actions/1"]
    problems: dict[str, list[str]] = {}
    for path in [*PAGES, *extra]:
        if path == "/login":
            anon = browser.new_context(extra_http_headers={"Accept-Language": "zh-CN" if lang == "zh" else "en"})
            p = anon.new_page()
            resp = p.goto(f"{server['url']}{path}")
        else:
            p = page
            resp = p.goto(f"{server['url']}{path}")
        assert resp is not None and resp.status == 200, f"{path}: {resp.status if resp else None}"
        name = path.strip("/").replace("/", "_").replace("?", "_").replace("=", "_") or "dashboard"
        p.screenshot(path=str(SHOTS / f"{name}.{lang}.png"), full_page=True)
        if lang == "zh":
            words = _latin_words(p)
            if words:
                problems[path] = words
        if path == "/login":
            anon.close()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server['url']}/incidents")
    page.screenshot(path=str(SHOTS / f"incidents.phone.{lang}.png"), full_page=True)
    page.context.close()
    assert not problems, f"English on Chinese pages: {problems}"


def test_docs_are_served_without_a_cdn(server: dict[str, Any], browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server["url"]) else None)
    page.goto(f"{server['url']}/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=20_000)
    assert not external
    ctx.close()
