"""A change lands minutes before a real fault; the diagnosis names it.

A real HTTP server (``python -m http.server``) is the service ``web``; steadyops probes it with the
http_probe checks. A deploy to ``web`` is recorded, four minutes pass (fake clock), then the server
is killed (SIGKILL: a real fault). The probe fails, the finding becomes an alert, the incident
opens, and its diagnosis says which change came how long before the first failing check. An older
change (outside the look-back) and a change on an unrelated target are not named.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from steadyops.core.clock import FakeClock
from steadyops.plugins import load_plugins
from steadyops.server import create_server
from steadyops.testing.auth import admin_token, bearer
from tests.harness.services import free_port, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("ok", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            cwd=tmp_path / "www", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _up(port), timeout=15, what="python -m http.server")
        yield proc, port
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _up(port: int) -> bool | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200 or None
    except httpx.HTTPError:
        return None


async def test_diagnosis_names_the_change_before_the_fault(
    make_app: Any, fake_clock: FakeClock, tmp_path: Path, web: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = web
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump({"targets": [
        {"name": "db", "kind": "host", "address": "127.0.0.2"},
        {"name": "web", "kind": "http_probe", "address": f"http://127.0.0.1:{port}/", "depends_on": ["db"],
         "labels": {"tries": "1", "timeout": "2", "cache_s": "0"}},
        {"name": "batch", "kind": "host", "address": "127.0.0.3"},
    ]}), encoding="utf-8")
    app = make_app(registry=load_plugins(), inventory=inventory, lang="en",
                   route={"group_wait": "0s", "group_interval": "1s"})
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_server(app, run_pipeline=False)),
                            base_url="http://steadyops.test", headers=bearer(admin_token(app)))
    t0 = fake_clock.now()
    for body in (
        {"id": "old", "title": "web v1.0", "targets": ["web"], "author": "eve",
         "started_at": (t0 - timedelta(hours=5)).isoformat()},
        {"id": "other", "title": "batch cron", "targets": ["batch"], "author": "bob", "started_at": t0.isoformat()},
        {"id": "CHG-42", "title": "web v2.0 (new connection pool)", "targets": ["web"], "author": "alice",
         "ticket": "OPS-42", "started_at": t0.isoformat()},
    ):
        assert (await api.post("/api/v1/changes", json=body)).status_code == 201

    healthy = await app.checks.inspect(app.checks.jobs(targets=["web"], checks=["http_probe.status"]))
    assert [f.status.value for f in healthy[1]] == ["ok"]

    fake_clock.advance(4 * 60)
    proc.kill()  # the fault: the process is gone, the port refuses connections
    proc.wait(timeout=10)
    _, findings = await app.checks.inspect(app.checks.jobs(targets=["web"], checks=["http_probe.status"]))
    assert [f.status.value for f in findings] == ["critical"], findings

    for _ in range(3):
        app.pipeline.process_sync()
        fake_clock.advance(2)
    [incident] = (await api.get("/api/v1/incidents")).json()
    detail = (await api.get(f"/api/v1/incidents/{incident['id']}")).json()
    [diagnosis] = detail["diagnoses"]
    changes = [e for e in diagnosis["evidence"] if e["kind"] == "change"]
    assert [c["detail"] for c in changes] == ["web v2.0 (new connection pool)"]
    assert changes[0]["minutes_before"] == 4 and changes[0]["ticket"] == "OPS-42"
    assert ('change "web v2.0 (new connection pool)" on web by alice, 4 minute(s) before the first failing check '
            "(http_probe.status@web)") in diagnosis["summary"]
    assert diagnosis["candidates"][0]["target"] == "web"
    await api.aclose()
