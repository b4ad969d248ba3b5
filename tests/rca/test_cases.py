"""The case loader: reasonable variations of the documented format load, malformed cases say what is
wrong and where."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steadyops.rca import load_case, rank_case
from steadyops.rca.cases import to_seconds

EPOCH = 1_700_000_000.0


def _write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text)
    return folder


def _metrics_csv(times: list[str], header: str = "time") -> str:
    rows = [f"{header},orders.svc.cluster.local:latency.p99,db::Table:cpu_usage,host"]
    for i, t in enumerate(times):
        cpu = 10.0 + (i % 3) if i < 40 else 60.0 + (i % 3)
        rows.append(f"{t},{20 + i % 4},{cpu},node-{i % 2}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (EPOCH, EPOCH),
        ("1700000000", EPOCH),
        (EPOCH * 1e3, EPOCH),
        (str(int(EPOCH * 1e6)), EPOCH),
        (EPOCH * 1e9, EPOCH),
        ("2023-11-14T22:13:20Z", EPOCH),
        ("2023-11-14T22:13:20+00:00", EPOCH),
        ("2023-11-14 22:13:20", EPOCH),
        (12.5, 12.5),
    ],
)
def test_times_in_seconds_milliseconds_or_iso(value: Any, seconds: float) -> None:
    assert to_seconds(value) == pytest.approx(seconds)


def test_relative_milliseconds_need_the_unit() -> None:
    assert to_seconds(1500, "ms") == 1.5
    with pytest.raises(ValueError, match="not a time"):
        to_seconds("yesterday")


@pytest.mark.parametrize("style", ["seconds", "ms", "iso"])
def test_the_same_case_in_every_time_style_loads_alike(tmp_path: Path, style: str) -> None:
    def stamp(t: float) -> str:
        if style == "ms":
            return str(int(t * 1000))
        if style == "iso":
            return datetime_iso(t)
        return repr(t)

    times = [EPOCH + 60 * i for i in range(50)]
    meta = {"normal": [stamp(times[0]), stamp(times[39])], "fault_start": stamp(times[40])}
    folder = _write(tmp_path / style, {
        "case.json": meta,
        "metrics.csv": _metrics_csv([stamp(t) for t in times], header="timestamp"),
    })
    case = load_case(folder)
    assert case.times == pytest.approx(times)
    assert case.normal == pytest.approx((times[0], times[39])) and case.fault_start == pytest.approx(times[40])
    assert case.root_cause is None  # a live case: nothing to score
    assert set(case.metrics) == {"orders.svc.cluster.local:latency.p99", "db::Table:cpu_usage", "host"}
    assert all(math.isnan(v) for v in case.metrics["host"])  # a text column is no evidence
    assert rank_case(case).services()[0] == "db::Table"


def datetime_iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_extra_columns_and_reordered_columns_in_logs_and_traces(tmp_path: Path) -> None:
    folder = _write(tmp_path / "c", {
        "case.json": {"normal": [0, 100], "fault_start": 120, "root_cause": "api", "labels": {"fault": "x"}},
        "metrics.csv": "time,api:cpu\n0,1\n60,1\n120,5\n",
        "logs.csv": "level,Component,time,message,pod\nINFO,api,10,started,api-1\nERROR,api,130,boom,api-1\n",
        "traces.csv": ("span_id,trace_id,component,time,duration_ms,http.url\n"
                       "s1,t1,api,10,3.5,/x\n"),
    })
    case = load_case(folder)
    assert [(r.time, r.component, r.message) for r in case.logs] == [(10.0, "api", "started"), (130.0, "api", "boom")]
    (span,) = case.spans
    assert (span.span_id, span.parent_span_id, span.status_code, span.duration_ms) == ("s1", "", "", 3.5)


def test_logs_or_traces_without_metrics_are_a_case(tmp_path: Path) -> None:
    folder = _write(tmp_path / "c", {
        "case.json": {"normal": [0, 100], "fault_start": 120},
        "logs.csv": "time,component,message\n10,api,started\n",
    })
    case = load_case(folder)
    assert case.metrics == {} and len(case.logs) == 1


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"metrics.csv": "time,a:cpu\n0,1\n"}, "no case.json"),
        ({"case.json": "{nope", "metrics.csv": "time,a:cpu\n"}, "not JSON"),
        ({"case.json": {"normal": [0, 10]}, "metrics.csv": "time,a:cpu\n"}, "fault_start"),
        ({"case.json": {"normal": [10, 0], "fault_start": 20}, "metrics.csv": "time,a:cpu\n"}, "ends before"),
        ({"case.json": {"normal": [0, 10], "fault_start": "soon"}, "metrics.csv": "time,a:cpu\n"}, "not a time"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}}, "no metrics.csv"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}, "metrics.csv": "when,a:cpu\n0,1\n"}, "no time column"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}, "metrics.csv": "time,a:cpu\nnoon,1\n"},
         r"metrics.csv:2: bad time"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}, "metrics.csv": "time,a:cpu,a:cpu\n0,1,2\n"},
         "repeated column"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}, "metrics.csv": ""}, "empty file"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}, "metrics.csv": "time,a:cpu\n0,1\n",
          "logs.csv": "time,message\n1,hello\n"}, r"missing column\(s\) \['component'\]"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20}, "metrics.csv": "time,a:cpu\n0,1\n",
          "topology": "a b\n"}, "caller -> callee"),
        ({"case.json": {"normal": [0, 10], "fault_start": 20, "time_unit": "hours"},
          "metrics.csv": "time,a:cpu\n0,1\n"}, "time_unit"),
    ],
)
def test_malformed_cases_say_what_and_where(tmp_path: Path, files: dict[str, Any], message: str) -> None:
    folder = _write(tmp_path / "bad", files)
    with pytest.raises(ValueError, match=message):
        load_case(folder)


def test_other_names_of_log_and_trace_columns(tmp_path: Path) -> None:
    folder = _write(tmp_path / "c", {
        "case.json": {"normal": [0, 100], "fault_start": 120},
        "logs.csv": "timestamp,service,level,msg\n10,api,INFO,started\n",
        "traces.csv": ("ts,traceID,spanID,parent_id,service_name,operation_name,duration_ms,status\n"
                       "12,t1,s2,s1,db,SELECT,2.5,ERROR\n"),
    })
    case = load_case(folder)
    assert [(r.time, r.component, r.message) for r in case.logs] == [(10.0, "api", "started")]
    (span,) = case.spans
    assert (span.trace_id, span.span_id, span.parent_span_id, span.component, span.operation, span.status_code) == (
        "t1", "s2", "s1", "db", "SELECT", "ERROR")


def test_metric_columns_without_any_colon_are_service_underscore_metric(tmp_path: Path) -> None:
    rows = ["time,carts_cpu,carts_latency-90,front-end_mem,orders.svc_cpu"]
    rows += [f"{60 * i},{1 + (i > 40) * 9},{5},{100},{2}" for i in range(50)]
    folder = _write(tmp_path / "c", {"case.json": {"normal": [0, 2340], "fault_start": 2400, "root_cause": "carts"},
                                      "metrics.csv": "\n".join(rows) + "\n"})
    case = load_case(folder)
    assert set(case.metrics) == {"carts:cpu", "carts:latency-90", "front-end:mem", "orders.svc:cpu"}
    assert rank_case(case).services()[0] == "carts"
