"""One on-disk case format for root-cause analysis, and its loader.

Why one format: every public benchmark ships its own layout (RCD's ``normal.csv``/``anomalous.csv``,
PetShop's three-row headers and adjacency matrix, RCAEval's ``data.csv`` + ``inject_time.txt``). If
the ranker read each of them, it would quietly learn each of them. Instead small converters (in
``bench/``) write this one format and the ranker only ever sees :class:`RcaCase`. The live diagnosis
fills the same model from Prometheus, log sources and trace sources.

A case folder holds (see ``bench/README.md`` for the full description):

* ``metrics.csv`` — a ``time`` column (unix seconds, epoch ms or ISO-8601: :func:`to_seconds`) and
  one column per ``component:metric``;
  the component is everything before the **last** ``:`` (component names may contain ``::``);
* ``logs.csv`` (optional) — ``time,component,message``;
* ``traces.csv`` (optional) — ``time,trace_id,span_id,parent_span_id,component,operation,
  duration_ms,status_code``;
* ``topology`` (optional) — one edge per line, ``caller -> callee``; ``#`` starts a comment;
* ``case.json`` — ``normal`` ``[start, end]`` (inclusive, unix seconds), ``fault_start``,
  optional ``end``, optional ``symptom`` ``{"component": …, "metric": …}``, ``root_cause`` (the
  true component, for scoring only) and free-form ``labels`` used to group results.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steadyops.core.heap import paused as paused_gc
from steadyops.rca.tables import TIME_COLUMNS, UNITS, floats, metric_table, record_batches, to_seconds

__all__ = [
    "LogRecord",
    "RcaCase",
    "Span",
    "component_of",
    "discover_cases",
    "load_case",
    "metric_of",
    "to_seconds",
    "write_case",
]

SEPARATOR = ":"
SPAN_COLUMNS = (
    "time", "trace_id", "span_id", "parent_span_id", "component", "operation", "duration_ms", "status_code",
)


def component_of(column: str) -> str:
    """``orders-db::Table:latency_p90`` → ``orders-db::Table`` (the last ``:`` separates the metric)."""
    head, found, _ = column.rpartition(SEPARATOR)
    return head if found and head else column


def metric_of(column: str) -> str:
    """``orders:cpu`` → ``cpu`` (the part after the last ``:``)."""
    _, found, tail = column.rpartition(SEPARATOR)
    return tail if found else column


@dataclass(frozen=True, slots=True)
class LogRecord:
    time: float
    component: str
    message: str


@dataclass(frozen=True, slots=True)
class Span:
    time: float
    trace_id: str
    span_id: str
    parent_span_id: str
    component: str
    operation: str
    duration_ms: float
    status_code: str


@dataclass(slots=True)
class RcaCase:
    """Everything one incident offers as evidence, plus the truth for scoring (never for ranking)."""

    name: str
    times: list[float]
    metrics: dict[str, list[float]]
    normal: tuple[float, float]
    fault_start: float
    end: float | None = None
    topology: dict[str, list[str]] = field(default_factory=dict)
    symptom_component: str | None = None
    symptom_metric: str | None = None
    root_cause: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    logs: list[LogRecord] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)

    def in_normal(self, t: float) -> bool:
        return self.normal[0] <= t <= self.normal[1]

    def in_incident(self, t: float) -> bool:
        return t >= self.fault_start and (self.end is None or t <= self.end)

    def windows(self) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
        """(normal, incident) samples of every metric column, split by time."""
        normal_rows = [i for i, t in enumerate(self.times) if self.in_normal(t)]
        incident_rows = [i for i, t in enumerate(self.times) if self.in_incident(t)]
        normal = {k: [v[i] for i in normal_rows] for k, v in self.metrics.items()}
        incident = {k: [v[i] for i in incident_rows] for k, v in self.metrics.items()}
        return normal, incident

    def before_fault(self) -> dict[str, list[float]]:
        """Samples from just before the fault start that are *not* in the normal window.

        Empty when the normal window runs up to the fault (the usual layout). When the normal period
        was recorded at another time, these rows show the regime the fault arrived in; a change that
        was already there is not the fault's doing. "Just before" spans as long as the incident does.
        """
        incident_end = self.end if self.end is not None else max(self.times, default=self.fault_start)
        span = max(incident_end - self.fault_start, 0.0)
        rows = [
            i for i, t in enumerate(self.times)
            if self.fault_start - span <= t < self.fault_start and not self.in_normal(t)
        ]
        if not rows:
            return {}
        return {k: [v[i] for i in rows] for k, v in self.metrics.items()}

    def components(self) -> list[str]:
        names = {component_of(c) for c in self.metrics}
        names |= set(self.topology) | {d for ds in self.topology.values() for d in ds}
        names |= {r.component for r in self.logs} | {s.component for s in self.spans}
        return sorted(names)


def _read_topology(path: Path) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        caller, arrow, callee = line.partition("->")
        if not arrow or not caller.strip() or not callee.strip():
            raise ValueError(f"{path}:{number}: expected 'caller -> callee', got {raw!r}")
        edges.setdefault(caller.strip(), []).append(callee.strip())
    return edges


#: Other names the columns of ``logs.csv`` / ``traces.csv`` go by in exports; the documented name wins
#: when both are present.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": (*TIME_COLUMNS[1:], "start_time", "starttime"),
    "component": ("service", "service_name", "servicename"),
    "message": ("msg", "log", "content", "text"),
    "trace_id": ("traceid", "trace"),
    "span_id": ("spanid", "span"),
    "parent_span_id": ("parent_id", "parentspanid", "parent_span", "parent"),
    "operation": ("operation_name", "operationname", "span_name", "name"),
    "status_code": ("status", "statuscode", "status_code_str"),
}


def _interned(cells: Sequence[str], names: dict[str, str]) -> list[str]:
    """Names without the spaces around them (``api `` is ``api``, as in the metrics' header), and
    the same text as one string: components, operations and status codes repeat on every one of
    hundreds of thousands of rows, and one copy each is tens of megabytes less."""
    return [names[c] if c in names else names.setdefault(c, c.strip()) for c in cells]


def _read_logs(path: Path, unit: str | None) -> list[LogRecord]:
    """Log lines; a line without a component is skipped (it is evidence about nobody)."""
    out: list[LogRecord] = []
    names: dict[str, str] = {}
    for _, times, cells in record_batches(path, ("component", "message"), ("component", "message"), ALIASES, unit):
        components = _interned(cells["component"], names)
        out += [
            LogRecord(t, c, m)
            for t, c, m in zip(times.tolist(), components, cells["message"], strict=True)
            if c
        ]
    return out


def _read_spans(path: Path, unit: str | None) -> list[Span]:
    """Spans; a span without a component is skipped (its children read as roots of their own)."""
    out: list[Span] = []
    names: dict[str, str] = {}
    wanted = ("trace_id", "span_id", "parent_span_id", "component", "operation", "duration_ms", "status_code")
    required = ("trace_id", "span_id", "component", "duration_ms")
    for lines, times, cells in record_batches(path, required, wanted, ALIASES, unit):
        blank = ("",) * len(lines)
        out += [
            Span(t, trace, span, parent, component, operation, duration, status)
            for t, trace, span, parent, component, operation, duration, status in zip(
                times.tolist(),
                cells["trace_id"],
                cells["span_id"],
                cells.get("parent_span_id", blank),
                _interned(cells["component"], names),
                _interned(cells.get("operation", blank), names),
                floats(cells["duration_ms"]).tolist(),
                _interned(cells.get("status_code", blank), names),
                strict=True,
            )
            if component
        ]
    return out


def _legacy_column(name: str) -> str:
    """``orders_cpu`` → ``orders:cpu``: metrics files with no ``:`` at all name columns
    ``<service>_<metric>`` (as every public microservice RCA benchmark we know does; service names
    carry ``-`` but not ``_``), else ``<service>.<metric>``. Without this each column would be a
    component of its own and no service could ever be named."""
    for sep in ("_", "."):
        head, found, tail = name.partition(sep)
        if found and head and tail:
            return f"{head}{SEPARATOR}{tail}"
    return name


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def load_case(folder: Path, name: str | None = None) -> RcaCase:
    """Read one case folder; raises ``ValueError`` naming the file and problem when it is malformed.

    Tolerated variations: extra columns (in ``logs.csv`` / ``traces.csv`` they are ignored; in
    ``metrics.csv`` every column is a metric), other names of log and trace columns (``ALIASES``:
    ``service`` for ``component``, ``parent_id`` for ``parent_span_id`` …), metric columns named
    ``<service>_<metric>`` when no column has a ``:``, a time column named ``time``/``timestamp``/``ts`` in
    any position, times as unix seconds, milliseconds (or finer) or ISO-8601 in every file and in
    ``case.json`` (``time_unit`` there settles relative times in ms), and no ``root_cause`` (a live
    case: nothing to score, everything to rank).
    """
    with paused_gc():  # millions of objects and no cycle among them (``core.heap.paused``)
        return _load_case(folder, name)


def _load_case(folder: Path, name: str | None) -> RcaCase:
    meta_path = folder / "case.json"
    try:
        meta: Any = json.loads(meta_path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ValueError(f"{folder}: no case.json") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_path}: not JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{meta_path}: not UTF-8 text ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected an object with 'normal' and 'fault_start'")
    unit = meta.get("time_unit")
    if unit is not None and unit not in UNITS:
        raise ValueError(f"{meta_path}: time_unit must be one of {sorted(UNITS)}, not {unit!r}")
    try:
        normal = (to_seconds(meta["normal"][0], unit), to_seconds(meta["normal"][1], unit))
        fault_start = to_seconds(meta["fault_start"], unit)
        end = to_seconds(meta["end"], unit) if meta.get("end") is not None else None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{meta_path}: needs 'normal': [start, end] and 'fault_start' as times ({exc!s})"
        ) from None
    if normal[0] > normal[1]:
        raise ValueError(f"{meta_path}: the normal window ends before it starts: {meta['normal']}")
    if end is not None and end < fault_start:
        raise ValueError(f"{meta_path}: 'end' is before 'fault_start'")
    symptom = meta.get("symptom") or {}
    if not isinstance(symptom, dict):
        raise ValueError(f"{meta_path}: 'symptom' must be {{\"component\": ..., \"metric\": ...}}")
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        raise ValueError(f"{meta_path}: 'labels' must be an object of names and values, not {labels!r}")
    metrics_path = folder / "metrics.csv"
    if metrics_path.is_file():
        times, metrics = metric_table(metrics_path, unit)
    elif (folder / "logs.csv").is_file() or (folder / "traces.csv").is_file():
        times, metrics = [], {}  # logs or traces alone are a case too
    else:
        raise ValueError(f"{folder}: no metrics.csv (nor logs.csv / traces.csv)")
    if metrics and not any(SEPARATOR in name for name in metrics):
        metrics = {_legacy_column(name): values for name, values in metrics.items()}
    topology_file = folder / "topology"
    root_cause = meta.get("root_cause")
    return RcaCase(
        name=name or folder.name,
        times=times,
        metrics=metrics,
        normal=normal,
        fault_start=fault_start,
        end=end,
        topology=_read_topology(topology_file) if topology_file.is_file() else {},
        symptom_component=_text(symptom.get("component")),
        symptom_metric=_text(symptom.get("metric")),
        root_cause=str(root_cause) if root_cause not in (None, "") else None,
        labels={str(k): str(v) for k, v in labels.items()},
        logs=_read_logs(folder / "logs.csv", unit) if (folder / "logs.csv").is_file() else [],
        spans=_read_spans(folder / "traces.csv", unit) if (folder / "traces.csv").is_file() else [],
    )


def discover_cases(root: Path) -> Iterator[RcaCase]:
    """Every folder under ``root`` (at any depth) that holds a ``case.json``, in path order."""
    for meta in sorted(root.rglob("case.json")):
        folder = meta.parent
        yield load_case(folder, name=str(folder.relative_to(root)) if folder != root else folder.name)


def write_case(
    folder: Path,
    *,
    times: Sequence[float],
    metrics: Mapping[str, Sequence[float]],
    meta: Mapping[str, Any],
    topology: Mapping[str, Sequence[str]] | None = None,
    logs: Sequence[LogRecord] = (),
    spans: Sequence[Span] = (),
) -> None:
    """Write a case folder (used by the converters and by tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = list(metrics)
    with (folder / "metrics.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", *names])
        for i, t in enumerate(times):
            cells = ("" if math.isnan(v) else repr(float(v)) for v in (metrics[n][i] for n in names))
            writer.writerow([repr(float(t)), *cells])
    (folder / "case.json").write_text(json.dumps(dict(meta), indent=1, sort_keys=True) + "\n")
    if topology:
        lines = [f"{caller} -> {callee}" for caller, callees in topology.items() for callee in callees]
        (folder / "topology").write_text("\n".join(lines) + "\n")
    if logs:
        with (folder / "logs.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["time", "component", "message"])
            writer.writerows([r.time, r.component, r.message] for r in logs)
    if spans:
        with (folder / "traces.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(SPAN_COLUMNS)
            writer.writerows([getattr(s, name) for name in SPAN_COLUMNS] for s in spans)
