"""Fill an :class:`~steadyops.rca.cases.RcaCase` from live sources, so diagnosis ranks with the bench's ranker.

Why: a ranker measured on case folders and a different one answering live incidents would drift
apart; the benchmark would then say nothing about what users get. So the live path only *collects*:
Prometheus range queries over the incident's window become the case's metric columns, held log
lines become its log records, and an OpenTelemetry or Jaeger JSON trace export becomes its spans.
:func:`~steadyops.rca.multimodal.rank_case` then scores the case exactly as ``bench/rca.py`` does.

* **Metrics** — each :class:`MetricQuery` names the metric (its name is read for its meaning:
  ``latency_p90`` is bad when it rises, ``availability`` when it falls) and the label whose value
  is the component. One range query spans the normal window up to the incident's end, at one step.
* **Logs** — :class:`~steadyops.sources.logs.LogLine` (the log sources' held tail) → ``LogRecord``
  with the line's target as the component.
* **Traces** — Jaeger's query-API JSON (``{"data": [trace, …]}``, a bare trace, or a list of
  traces) and OTLP/JSON (``{"resourceSpans": …}``, as the OpenTelemetry collector's file exporter
  writes it) → ``Span``; the component is the span's service name. Parent links come from
  ``CHILD_OF`` references / ``parentSpanId``; a span failed when it carries an error tag or status.
  :func:`spans_from_jaeger` reads them from a running Jaeger query service (the ``traces`` section
  of the settings), one query per service, a trace seen from several services counted once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from steadyops.core.errors import SteadyOpsError
from steadyops.rca.cases import SEPARATOR, LogRecord, RcaCase, Span
from steadyops.sources.jaeger import JaegerQuery
from steadyops.sources.logs import LogLine
from steadyops.sources.promql import PromQL

__all__ = [
    "MetricQuery",
    "case_from_prometheus",
    "load_trace_file",
    "logs_from_lines",
    "spans_from_jaeger",
    "spans_from_trace_json",
]


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One PromQL expression whose series become one metric per component."""

    name: str
    """The metric's name in the case (``latency_p90``, ``cpu``): its words give its direction."""
    promql: str
    component_label: str = "service"
    """The series label whose value names the component (``service``, ``job``, ``pod`` …)."""


def _metric_name(name: str) -> str:
    # the component is everything before the last separator, so the metric name cannot carry one
    return name.replace(SEPARATOR, "_")


def case_from_prometheus(
    prom: PromQL,
    queries: Sequence[MetricQuery],
    *,
    normal: tuple[datetime, datetime],
    fault_start: datetime,
    end: datetime,
    step: float,
    topology: Mapping[str, Sequence[str]] | None = None,
    symptom: tuple[str, str] | None = None,
    logs: Iterable[LogRecord] = (),
    spans: Iterable[Span] = (),
    name: str = "live",
) -> RcaCase:
    """A case whose metric columns are ``<component>:<name>`` from range queries over the windows.

    Series without the component label are named after the query (``name``) alone, so a
    single-component query still counts. Several series of one component and name (other labels
    differ) become ``name``, ``name_2`` …: each is scored on its own and the component keeps its
    strongest, as for any metric. A query Prometheus rejects raises (the caller decides whether a
    missing metric is fatal); an empty answer adds no column.
    """
    begin = min(normal[0], fault_start)
    columns: dict[str, dict[float, float]] = {}
    for query in queries:
        metric = _metric_name(query.name)
        for labels, points in prom.query_range(query.promql, begin, end, step):
            component = labels.get(query.component_label) or query.name
            column = f"{component}{SEPARATOR}{metric}"
            n = 2
            while column in columns:
                column = f"{component}{SEPARATOR}{metric}_{n}"
                n += 1
            columns[column] = {t: v for t, v in points if math.isfinite(v)}
    times = sorted({t for values in columns.values() for t in values})
    metrics = {col: [values.get(t, math.nan) for t in times] for col, values in columns.items()}
    return RcaCase(
        name=name,
        times=times,
        metrics=metrics,
        normal=(normal[0].timestamp(), normal[1].timestamp()),
        fault_start=fault_start.timestamp(),
        end=end.timestamp(),
        topology={k: list(v) for k, v in (topology or {}).items()},
        symptom_component=symptom[0] if symptom else None,
        symptom_metric=symptom[1] if symptom else None,
        logs=list(logs),
        spans=list(spans),
    )


def logs_from_lines(lines: Iterable[LogLine]) -> list[LogRecord]:
    """The log sources' held lines as case log records (the line's target is its component)."""
    return [LogRecord(line.timestamp, line.target, line.text) for line in lines]


_ERROR_STATUS = {"error", "status_code_error", "2"}  # OTLP StatusCode ERROR is 2 in JSON


def _tags(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {str(t.get("key")): t.get("value") for t in items}


def _jaeger_spans(trace: Mapping[str, Any]) -> list[Span]:
    processes = {pid: str(p.get("serviceName", "")) for pid, p in (trace.get("processes") or {}).items()}
    out: list[Span] = []
    for s in trace.get("spans") or []:
        tags = _tags(s.get("tags") or [])
        parent = next(
            (str(r.get("spanID", "")) for r in s.get("references") or [] if r.get("refType") == "CHILD_OF"),
            str(s.get("parentSpanID", "") or ""),
        )
        service = processes.get(str(s.get("processID", "")), "") or str((s.get("process") or {}).get("serviceName", ""))
        failed = tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).lower() == "error"
        http_status = tags.get("http.status_code", tags.get("http.response.status_code"))
        out.append(Span(
            time=float(s.get("startTime", 0)) / 1e6,
            trace_id=str(s.get("traceID", trace.get("traceID", ""))),
            span_id=str(s.get("spanID", "")),
            parent_span_id=parent,
            component=service,
            operation=str(s.get("operationName", "")),
            duration_ms=float(s.get("duration", 0)) / 1e3,
            status_code="ERROR" if failed else (str(http_status) if http_status is not None else "OK"),
        ))
    return out


def _otlp_value(value: Mapping[str, Any]) -> Any:
    for key in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    return None


def _otlp_spans(doc: Mapping[str, Any]) -> list[Span]:
    out: list[Span] = []
    for rs in doc.get("resourceSpans") or []:
        resource = rs.get("resource") or {}
        attrs = {a.get("key"): _otlp_value(a.get("value") or {}) for a in resource.get("attributes") or []}
        service = str(attrs.get("service.name") or "")
        for scope in (rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []):
            for s in scope.get("spans") or []:
                start = int(s.get("startTimeUnixNano", 0))
                stop = int(s.get("endTimeUnixNano", start))
                code = str((s.get("status") or {}).get("code", "")).lower()
                out.append(Span(
                    time=start / 1e9,
                    trace_id=str(s.get("traceId", "")),
                    span_id=str(s.get("spanId", "")),
                    parent_span_id=str(s.get("parentSpanId", "") or ""),
                    component=service,
                    operation=str(s.get("name", "")),
                    duration_ms=(stop - start) / 1e6,
                    status_code="ERROR" if code in _ERROR_STATUS else "OK",
                ))
    return out


def spans_from_trace_json(doc: Any) -> list[Span]:
    """Spans from Jaeger JSON (API answer, one trace, or a list) or OTLP/JSON; unknown shapes → []."""
    if isinstance(doc, list):
        return [span for item in doc for span in spans_from_trace_json(item)]
    if not isinstance(doc, Mapping):
        return []
    if "resourceSpans" in doc:
        return _otlp_spans(doc)
    if "data" in doc:
        return spans_from_trace_json(doc["data"])
    if "spans" in doc:
        return _jaeger_spans(doc)
    return []


def load_trace_file(path: Path) -> list[Span]:
    """Spans from a trace export file: one JSON document, or one per line (the collector's JSONL)."""
    text = path.read_text(encoding="utf-8")
    try:
        return spans_from_trace_json(json.loads(text))
    except json.JSONDecodeError:
        return [s for line in text.splitlines() if line.strip() for s in spans_from_trace_json(json.loads(line))]


def spans_from_jaeger(
    jaeger: JaegerQuery,
    start: datetime,
    end: datetime,
    *,
    services: Sequence[str] = (),
    limit: int = 500,
    rename: Mapping[str, str] | None = None,
) -> list[Span]:
    """Spans that started in [start, end] from a Jaeger query service.

    ``services`` empty means every service Jaeger knows. A trace appears once per service it
    touches; each span is kept once. ``rename`` maps Jaeger's service names to the case's component
    names (inventory targets); unmapped names stay. A service whose query fails is skipped only if
    another answered: when none does, the error is raised (the caller decides whether traces are
    optional).
    """
    names = list(services) or jaeger.services()
    seen: set[tuple[str, str]] = set()
    out: list[Span] = []
    failures: list[SteadyOpsError] = []
    for service in names:
        try:
            doc = jaeger.traces(service, start, end, limit)
        except SteadyOpsError as exc:  # one service's failure must not lose the others
            failures.append(exc)
            continue
        for span in spans_from_trace_json(doc):
            key = (span.trace_id, span.span_id)
            if key in seen or not start.timestamp() <= span.time <= end.timestamp():
                continue
            seen.add(key)
            out.append(span if not rename or span.component not in rename else
                       Span(span.time, span.trace_id, span.span_id, span.parent_span_id, rename[span.component],
                            span.operation, span.duration_ms, span.status_code))
    if failures and len(failures) == len(names):
        raise failures[0]
    out.sort(key=lambda s: s.time)
    return out
