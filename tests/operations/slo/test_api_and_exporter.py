"""SLO routes without Prometheus (rules, errors) and the probe-SLI counters on /metrics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from steadyops.app import App
from steadyops.server import create_server
from steadyops.store.tables import CheckResultRow
from steadyops.testing.auth import admin_token, bearer

SPEC = """
version: prometheus/v1
service: web
slos:
  - name: probe
    objective: 99
    sli: {probe: {check: http_probe.status, target: web}}
"""


async def test_rules_status_errors_and_metrics(make_app: Any, tmp_path: Path) -> None:
    spec = tmp_path / "web.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    app: App = make_app(slo={"specs": [str(spec)]})
    now = app.clock.now()
    with app.store.transaction() as s:
        for i, status in enumerate(["ok", "ok", "critical", "ok", "unknown"]):
            s.add(CheckResultRow(check="http_probe.status", target="web", target_kind="http_probe", status=status,
                                 summary="", started_at=now - timedelta(minutes=i)))
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                 headers=bearer(admin_token(app))) as c:
        rules = yaml.safe_load((await c.get("/api/v1/slos/rules")).text)
        assert rules["groups"][0]["name"] == "steadyops-slo-web-probe"
        scaled = (await c.get("/api/v1/slos/rules", params={"time_scale": 60})).text
        assert "TIME-COMPRESSED" in scaled
        no_prom = await c.get("/api/v1/slos")
        assert no_prom.status_code == 409 and "Prometheus" in no_prom.json()["detail"]
        assert (await c.get("/api/v1/slos/nope")).status_code == 404
        metrics = (await c.get("/metrics")).text
    assert '# TYPE steadyops_check_results_total counter' in metrics
    assert 'steadyops_check_results_total{check="http_probe.status",status="ok",target="web"} 3.0' in metrics
    assert 'steadyops_check_results_total{check="http_probe.status",status="critical",target="web"} 1.0' in metrics
    assert 'steadyops_check_results_total{check="http_probe.status",status="unknown",target="web"} 1.0' in metrics
