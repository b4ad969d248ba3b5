"""Trace exports (Jaeger JSON, OTLP/JSON) become case spans, and the ranker reads them: a callee whose
own time grew is blamed, not the caller whose spans merely got longer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from steadyops.config.settings import load_settings
from steadyops.core.errors import ConfigError, TransientError
from steadyops.pipeline.metrics import metric_evidence
from steadyops.rca import RcaCase, rank_case
from steadyops.rca.live import load_trace_file, logs_from_lines, spans_from_jaeger, spans_from_trace_json
from steadyops.sources.jaeger import JaegerQuery
from steadyops.sources.logs import LogLine
from tests.harness.jaeger import JaegerServer

FAULT = 3600.0


def jaeger_traces(rng: np.random.Generator, start: float, stop: float, slow_backend: bool) -> list[dict[str, Any]]:
    """frontend → backend → db, five traces a minute; durations in microseconds as Jaeger writes them."""
    traces = []
    for i, t in enumerate(np.arange(start, stop, 12.0)):
        tid = f"{int(t):x}{i:04x}"
        db = rng.normal(20_000, 2_000)
        backend_self = rng.normal(150_000 if slow_backend else 30_000, 3_000)
        front_self = rng.normal(10_000, 1_000)
        us = int(t * 1e6)
        traces.append({
            "traceID": tid,
            "processes": {"p1": {"serviceName": "frontend"}, "p2": {"serviceName": "backend"},
                          "p3": {"serviceName": "db"}},
            "spans": [
                {"traceID": tid, "spanID": "a", "operationName": "GET /", "processID": "p1", "references": [],
                 "startTime": us, "duration": int(front_self + backend_self + db), "tags": []},
                {"traceID": tid, "spanID": "b", "operationName": "list", "processID": "p2",
                 "references": [{"refType": "CHILD_OF", "traceID": tid, "spanID": "a"}],
                 "startTime": us + 1, "duration": int(backend_self + db), "tags": []},
                {"traceID": tid, "spanID": "c", "operationName": "SELECT", "processID": "p3",
                 "references": [{"refType": "CHILD_OF", "traceID": tid, "spanID": "b"}],
                 "startTime": us + 2, "duration": int(db),
                 "tags": [{"key": "error", "type": "bool", "value": False}]},
            ],
        })
    return traces


def test_jaeger_json_file_feeds_the_ranker(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    doc = {"data": jaeger_traces(rng, 0.0, FAULT, False) + jaeger_traces(rng, FAULT, FAULT + 600, True)}
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(doc))
    spans = load_trace_file(path)
    assert {s.component for s in spans} == {"frontend", "backend", "db"}
    child = next(s for s in spans if s.component == "db")
    assert child.parent_span_id == "b" and child.status_code == "OK" and child.duration_ms > 1.0
    case = RcaCase(name="jaeger", times=list(np.arange(0.0, FAULT + 600, 60.0)), metrics={},
                   normal=(0.0, FAULT - 1), fault_start=FAULT, end=FAULT + 600, spans=spans)
    result = rank_case(case)
    assert result.services()[0] == "backend"
    assert not result.inconclusive
    assert any("self" in e for e in result.candidates[0].evidence)


def test_otlp_json_and_jsonl_exports() -> None:
    doc = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"spans": [
            {"traceId": "t1", "spanId": "s1", "name": "pay", "startTimeUnixNano": "1700000000000000000",
             "endTimeUnixNano": "1700000000250000000", "status": {"code": 2}},
            {"traceId": "t1", "spanId": "s2", "parentSpanId": "s1", "name": "charge",
             "startTimeUnixNano": "1700000000010000000", "endTimeUnixNano": "1700000000020000000",
             "status": {"code": "STATUS_CODE_OK"}},
        ]}],
    }]}
    spans = spans_from_trace_json(doc)
    assert [(s.component, s.span_id, s.parent_span_id, s.status_code) for s in spans] == [
        ("checkout", "s1", "", "ERROR"), ("checkout", "s2", "s1", "OK")]
    assert abs(spans[0].duration_ms - 250.0) < 1e-6 and spans[0].time == 1_700_000_000.0
    assert spans_from_trace_json({"unknown": 1}) == []


def test_log_lines_become_case_records() -> None:
    lines = [LogLine(target="orders", file="/var/log/orders.log", line=3, timestamp=12.5, text="timeout calling db")]
    records = logs_from_lines(lines)
    assert (records[0].time, records[0].component, records[0].message) == (12.5, "orders", "timeout calling db")


@pytest.fixture
def jaeger() -> Iterator[JaegerServer]:
    rng = np.random.default_rng(11)
    server = JaegerServer(jaeger_traces(rng, 0.0, FAULT, False) + jaeger_traces(rng, FAULT, FAULT + 600, True))
    yield server
    server.close()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_spans_from_a_running_jaeger_query_service(jaeger: JaegerServer) -> None:
    """Services discovered, one query each, a trace seen from three services kept once, the window
    honoured, names mapped to targets; the case ranks the slow backend first."""
    spans = spans_from_jaeger(JaegerQuery(jaeger.url), _at(0.0), _at(FAULT + 600), limit=10_000,
                              rename={"backend": "api"})
    assert {p.split("?")[0] for p in jaeger.requests} == {"/api/services", "/api/traces"}
    assert sum(p.startswith("/api/traces") for p in jaeger.requests) == 3
    assert len(spans) == 3 * len(jaeger.traces)  # each span once although each trace came back thrice
    assert {s.component for s in spans} == {"frontend", "api", "db"}
    case = RcaCase(name="jaeger-live", times=[], metrics={}, normal=(0.0, FAULT - 1), fault_start=FAULT,
                   end=FAULT + 600, spans=spans)
    result = rank_case(case)
    assert result.services()[0] == "api" and not result.inconclusive

    later = spans_from_jaeger(JaegerQuery(jaeger.url), _at(FAULT), _at(FAULT + 600), services=["frontend"],
                              limit=10_000)
    assert later and min(s.time for s in later) >= FAULT


def test_a_failing_service_query_costs_only_its_traces(jaeger: JaegerServer) -> None:
    jaeger.failing = {"db"}
    spans = spans_from_jaeger(JaegerQuery(jaeger.url), _at(0.0), _at(FAULT + 600), limit=10_000)
    assert {s.component for s in spans} == {"frontend", "backend", "db"}  # db's spans came with the others' traces
    jaeger.failing = {"frontend", "backend", "db"}
    with pytest.raises(TransientError, match="HTTP 500"):
        spans_from_jaeger(JaegerQuery(jaeger.url), _at(0.0), _at(FAULT + 600))


def test_an_unreachable_jaeger_is_a_transient_error() -> None:
    with pytest.raises(TransientError, match="unreachable"):
        JaegerQuery("http://127.0.0.1:9", timeout=1.0).services()


def test_diagnosis_ranks_traces_without_prometheus(jaeger: JaegerServer) -> None:
    """The trace source alone feeds the diagnosis case (no Prometheus section): the rca item names
    the backend, and only inventory targets gain score."""
    start = _at(FAULT)
    spans = spans_from_jaeger(JaegerQuery(jaeger.url), _at(0.0), _at(FAULT + 300), limit=10_000)
    evidence, gain = metric_evidence(None, None, {"frontend": "10.0.0.1", "backend": "10.0.0.2"}, start,
                                     _at(FAULT + 300), topology={"frontend": ["backend"]}, spans=spans,
                                     window=(FAULT, 300.0))
    rca = next(e for e in evidence if e["kind"] == "rca")
    assert rca["target"] == "backend" and not rca["inconclusive"]
    assert set(gain) <= {"frontend", "backend"} and gain.get("backend", 0.0) > 0.0


def test_the_traces_section_of_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "steadyops.yaml"
    path.write_text("traces:\n  url: http://jaeger:16686\n  services: [frontend]\n  lookback: 20m\n"
                    "  service_map: {frontend-svc: frontend}\n")
    cfg = load_settings(path).traces
    assert cfg is not None and cfg.lookback == 1200.0 and cfg.limit == 500 and cfg.services == ["frontend"]
    assert cfg.service_map == {"frontend-svc": "frontend"}
    path.write_text("traces:\n  url: http://jaeger:16686\n  limt: 5\n")
    with pytest.raises(ConfigError, match="limt"):
        load_settings(path)
