"""One on-disk case format for root-cause analysis, and its loader.

Why one format: every public benchmark ships its own layout (RCD's ``normal.csv``/``anomalous.csv``,
PetShop's three-row headers and adjacency matrix, RCAEval's ``data.csv`` + ``inject_time.txt``). If
the ranker read each of them, it would quietly learn each of them. Instead small converters (in
``bench/``) write this one format and the ranker only ever sees :class:`RcaCase`. The live diagnosis
fills the same model from Prometheus, log sources and trace sources.

A case folder holds (see ``bench/README.md`` for the full description):

* ``metrics.csv`` — a ``time`` column (unix seconds) and one column per ``component:metric``;
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

__all__ = [
    "LogRecord",
    "RcaCase",
    "Span",
    "component_of",
    "discover_cases",
    "load_case",
    "metric_of",
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


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _read_metrics(path: Path) -> tuple[list[float], dict[str, list[float]]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if not header or header[0] != "time":
            raise ValueError(f"{path}: the first column must be 'time'")
        columns: list[list[float]] = [[] for _ in header]
        for row in reader:
            for i in range(len(header)):
                columns[i].append(_number(row[i]) if i < len(row) else math.nan)
    return columns[0], dict(zip(header[1:], columns[1:], strict=True))


def _read_topology(path: Path) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        caller, arrow, callee = line.partition("->")
        if not arrow or not caller.strip() or not callee.strip():
            raise ValueError(f"{path}: expected 'caller -> callee', got {raw!r}")
        edges.setdefault(caller.strip(), []).append(callee.strip())
    return edges


def _read_logs(path: Path) -> list[LogRecord]:
    with path.open(newline="") as handle:
        return [
            LogRecord(_number(r["time"]), r["component"], r["message"]) for r in csv.DictReader(handle)
        ]


def _read_spans(path: Path) -> list[Span]:
    with path.open(newline="") as handle:
        return [
            Span(
                time=_number(r["time"]),
                trace_id=r["trace_id"],
                span_id=r["span_id"],
                parent_span_id=r.get("parent_span_id") or "",
                component=r["component"],
                operation=r.get("operation") or "",
                duration_ms=_number(r["duration_ms"]),
                status_code=r.get("status_code") or "",
            )
            for r in csv.DictReader(handle)
        ]


def load_case(folder: Path, name: str | None = None) -> RcaCase:
    """Read one case folder; raises ``ValueError`` naming the file and problem when it is malformed."""
    meta: dict[str, Any] = json.loads((folder / "case.json").read_text())
    try:
        normal = (float(meta["normal"][0]), float(meta["normal"][1]))
        fault_start = float(meta["fault_start"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"{folder / 'case.json'}: needs 'normal': [start, end] and 'fault_start'") from exc
    times, metrics = _read_metrics(folder / "metrics.csv")
    symptom = meta.get("symptom") or {}
    topology_file = folder / "topology"
    return RcaCase(
        name=name or folder.name,
        times=times,
        metrics=metrics,
        normal=normal,
        fault_start=fault_start,
        end=float(meta["end"]) if meta.get("end") is not None else None,
        topology=_read_topology(topology_file) if topology_file.is_file() else {},
        symptom_component=symptom.get("component"),
        symptom_metric=symptom.get("metric"),
        root_cause=meta.get("root_cause"),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        logs=_read_logs(folder / "logs.csv") if (folder / "logs.csv").is_file() else [],
        spans=_read_spans(folder / "traces.csv") if (folder / "traces.csv").is_file() else [],
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
