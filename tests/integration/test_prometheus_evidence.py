"""Metrics from a real Prometheus: diagnosis finds the target whose metric jumped at the incident,
and the agent's PromQL tool reads the same series."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from steadyops.agent.tools import PlatformToolset, PromQLParams
from steadyops.app import build_app
from steadyops.config.settings import Settings
from steadyops.core.models import Alert
from steadyops.pipeline import diagnose
from steadyops.plugins import Registry
from steadyops.store import incidents as incidents_repo
from tests.harness.services import Services
from tests.harness.timeline import push

pytestmark = pytest.mark.integration


class Exporter:
    """A /metrics endpoint whose gauge the test moves by hand."""

    def __init__(self) -> None:
        self.value = 10.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f"app_queue_depth {outer.value + (time.time() % 3)}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    e = Exporter()
    yield e
    e.close()


async def test_metric_jump_becomes_evidence_and_promql_tool_reads_it(
        services: Services, exporter: Exporter, require: Callable[..., None], tmp_path: Path) -> None:
    require("prometheus")
    prom = services.prometheus({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                                "scrape_configs": [{"job_name": "app", "static_configs": [
                                    {"targets": [f"127.0.0.1:{exporter.port}"]}]}]})
    time.sleep(14)  # a baseline with some noise
    start = datetime.now(UTC)
    exporter.value = 500.0
    time.sleep(6)

    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"targets:\n  - {{name: app-1, kind: host, address: '127.0.0.1:{exporter.port}'}}\n"
                   "  - {name: db-1, kind: host, address: 127.0.0.9, depends_on: []}\n"
                   "  - {name: web-1, kind: host, address: 127.0.0.8, depends_on: [app-1, db-1]}\n")
    settings = Settings(data_dir=tmp_path / "data", inventory=inv, lang="en",
                        route={"group_by": ["alertname"], "group_wait": 0, "group_interval": 1},
                        prometheus={"url": prom.url, "metrics": {"queue": 'app_queue_depth{instance=~"{host}"}'},
                                    "lookback": "60s", "after": "30s", "step": "1s"})
    app = build_app(settings, registry=Registry())
    try:
        from steadyops.core.clock import SystemClock

        push(app, SystemClock(),  # type: ignore[arg-type]
             Alert(labels={"alertname": "SlowPages", "instance": "127.0.0.8", "severity": "warning"},
                   starts_at=start))
        app.pipeline.process_sync()
        with app.store.transaction() as s:
            (inc,) = incidents_repo.list_rows(s)
            d = diagnose.latest(s, inc.id, "deterministic")
            assert d is not None
            metric = [e for e in d.evidence if e["kind"] == "metric"]
            assert [(e["target"], e["detail"]) for e in metric] == [("app-1", "queue")]
            assert d.candidates[0]["target"] == "app-1"
            (rca,) = [e for e in d.evidence if e["kind"] == "rca"]  # the bench's ranker, on the live case
            assert rca["target"] == "app-1" and rca["ranking"][0] == "app-1" and "app-1:queue" in rca["detail"]
        tool = next(t for t in PlatformToolset(app).tools() if t.name == "promql_query")
        result: Any = await tool.run(PromQLParams(query="app_queue_depth", minutes=1, step_seconds=5))
        assert result and max(v for _t, v in result[0]["points"]) >= 500
    finally:
        app.close()
