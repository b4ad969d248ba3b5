"""Live diagnosis fills the bench's case model: range queries against a real Prometheus plus a Jaeger
JSON trace file become one RcaCase, and the same ranker names the service whose CPU jumped."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from steadyops.rca import rank_case
from steadyops.rca.live import MetricQuery, case_from_prometheus, load_trace_file
from steadyops.sources.promql import PromQL
from tests.harness.services import Services

pytestmark = pytest.mark.integration


class Exporter:
    """Per-service CPU gauges; the test moves one service's level by hand."""

    def __init__(self) -> None:
        self.level = {"cart": 0.20, "orders": 0.30}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                wobble = (time.time() * 7) % 1 * 0.02
                body = "".join(f'svc_cpu_usage{{service="{s}"}} {v + wobble}\n'
                               for s, v in outer.level.items()).encode()
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


def jaeger_file(path: Path, start: float, fault: float, end: float) -> None:
    """orders → cart traces every second; spans before ``fault`` look like those after it."""
    traces = []
    for i in range(int(end - start)):
        t = start + i
        tid = f"t{i}"
        us = int(t * 1e6)
        traces.append({"traceID": tid, "processes": {"p1": {"serviceName": "orders"}, "p2": {"serviceName": "cart"}},
                       "spans": [
                           {"traceID": tid, "spanID": "a", "operationName": "order", "processID": "p1",
                            "references": [], "startTime": us, "duration": 40_000 + (i % 5) * 1000},
                           {"traceID": tid, "spanID": "b", "operationName": "get", "processID": "p2",
                            "references": [{"refType": "CHILD_OF", "traceID": tid, "spanID": "a"}],
                            "startTime": us + 5, "duration": 20_000 + (i % 3) * 1000}]})
    path.write_text(json.dumps({"data": traces}))


def test_prometheus_and_jaeger_feed_one_case(services: Services, exporter: Exporter,
                                             require: Callable[..., None], tmp_path: Path) -> None:
    require("prometheus")
    prom = services.prometheus({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                                "scrape_configs": [{"job_name": "app", "static_configs": [
                                    {"targets": [f"127.0.0.1:{exporter.port}"]}]}]})
    begin = datetime.now(UTC)
    time.sleep(16)  # a healthy baseline
    fault = datetime.now(UTC)
    exporter.level["cart"] = 0.95
    time.sleep(6)
    end = datetime.now(UTC)
    trace_path = tmp_path / "traces.json"
    jaeger_file(trace_path, begin.timestamp(), fault.timestamp(), end.timestamp())

    case = case_from_prometheus(
        PromQL(prom.url), [MetricQuery("cpu", "svc_cpu_usage", component_label="service")],
        normal=(begin, fault - timedelta(seconds=1)), fault_start=fault, end=end, step=1.0,
        spans=load_trace_file(trace_path),
    )
    assert set(case.metrics) == {"cart:cpu", "orders:cpu"}
    assert len(case.times) >= 15 and len(case.spans) > 20
    result = rank_case(case)
    assert result.services()[0] == "cart"
    assert "cart:cpu" in result.candidates[0].evidence
