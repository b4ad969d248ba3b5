"""Rank one :class:`~steadyops.rca.cases.RcaCase`: metrics, logs and traces as one kind of evidence.

Why one kind: logs and traces are turned into per-component time series on the metrics' own time
grid and then scored by the same robust scorer. So a log or trace signal means "k times its largest
excursion while healthy", exactly like a metric, and fusion is the ranker's usual max-per-component
plus cause/symptom separation, with no weights to fit between modalities.

Logs (per component, templates mined with :class:`~steadyops.detect.logs.TemplateMiner`):

* ``log_lines`` — lines per bucket (traffic: both directions count);
* ``log_error_lines`` — lines whose *template* carries an error word (error, exception, fail,
  timeout, refused …; general vocabulary, read from the template so parameters cannot fake it);
* ``log_new_templates`` — lines whose template never occurs in the rest of the normal window. For a
  normal bucket "the rest" excludes the bucket itself, so the baseline rate of rare messages is
  measured the same way the incident is judged.

Traces (per component):

* ``span_self_ms_p90`` / ``span_self_ms_mean`` — a span's duration minus its children's: the time
  spent *in* the component. A slow callee makes its caller's spans slow but not its self time, so
  this is local evidence and the caller is not blamed;
* ``span_error_origin_rate`` — share of spans that failed while none of their children did (the
  error started here, local); ``span_error_rate`` and ``span_latency_p90`` — request-path view;
* ``span_calls`` — spans per bucket (traffic).

When a case has no topology, caller → callee edges are read from the traces' parent/child spans.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from steadyops.detect.logs import TemplateMiner
from steadyops.rca.cases import LogRecord, RcaCase, Span, component_of
from steadyops.rca.ranking import RcaConfig, RcaResult, rank_root_causes

__all__ = ["log_signals", "rank_case", "trace_signals", "trace_topology"]

Windows = tuple[dict[str, list[float]], dict[str, list[float]]]

_ERROR_WORDS = re.compile(
    r"\b(?:error|errors|err|exception|exceptions|fail|fails|failed|failure|fatal|panic|timeout|"
    r"timed out|refused|denied|unavailable|unreachable|traceback|critical|severe|abort|aborted|"
    r"crash|crashed|killed|oom|out of memory|reset by peer|broken pipe)\b",
    re.IGNORECASE,
)
_DEFAULT_STEP = 60.0


def _step(case: RcaCase) -> float:
    times = sorted(set(t for t in case.times if math.isfinite(t)))
    if len(times) >= 2:
        diffs = np.diff(np.asarray(times, dtype=np.float64))
        step = float(np.median(diffs))
        if step > 0:
            return step
    return _DEFAULT_STEP


class _Grid:
    """Buckets of ``step`` seconds over the normal window and over the incident window."""

    def __init__(self, case: RcaCase, events: Iterable[float]) -> None:
        self.step = _step(case)
        self.normal_start, normal_end = case.normal
        self.n_normal = max(int((normal_end - self.normal_start) // self.step) + 1, 1)
        self.fault_start = case.fault_start
        end = case.end
        if end is None:
            end = max((t for t in events if t >= case.fault_start), default=case.fault_start)
        self.n_incident = max(int((end - case.fault_start) // self.step) + 1, 1)

    def locate(self, t: float) -> tuple[bool, int] | None:
        """(is_incident, bucket index) or ``None`` when ``t`` is in neither window."""
        if self.normal_start <= t < self.normal_start + self.n_normal * self.step:
            return False, int((t - self.normal_start) // self.step)
        if self.fault_start <= t < self.fault_start + self.n_incident * self.step:
            return True, int((t - self.fault_start) // self.step)
        return None


def log_signals(case: RcaCase, records: Sequence[LogRecord] | None = None) -> Windows:
    """Per-component log series (normal, incident), named ``<component>:log_…``."""
    records = case.logs if records is None else records
    grid = _Grid(case, (r.time for r in records))
    by_component: dict[str, list[tuple[bool, int, str]]] = defaultdict(list)
    for rec in sorted(records, key=lambda r: r.time):
        where = grid.locate(rec.time)
        if where is not None:
            by_component[rec.component].append((where[0], where[1], rec.message))
    normal: dict[str, list[float]] = {}
    incident: dict[str, list[float]] = {}
    for component, lines in by_component.items():
        miner = TemplateMiner()
        ids = [miner.add(msg).template_id for _, _, msg in lines]
        ids = [miner.resolve(i) for i in ids]
        is_error = {t.id: bool(_ERROR_WORDS.search(t.template)) for t in miner.templates()}
        normal_buckets: dict[int, set[int]] = defaultdict(set)  # template → normal buckets it occurs in
        for (inc, bucket, _), tid in zip(lines, ids, strict=True):
            if not inc:
                normal_buckets[tid].add(bucket)
        counts = {
            False: np.zeros((3, grid.n_normal)),
            True: np.zeros((3, grid.n_incident)),
        }
        for (inc, bucket, _), tid in zip(lines, ids, strict=True):
            seen = normal_buckets.get(tid, set())
            novel = not (seen - {bucket}) if not inc else not seen
            counts[inc][0, bucket] += 1
            counts[inc][1, bucket] += is_error.get(tid, False)
            counts[inc][2, bucket] += novel
        for row, kind in enumerate(("log_lines", "log_error_lines", "log_new_templates")):
            normal[f"{component}:{kind}"] = counts[False][row].tolist()
            incident[f"{component}:{kind}"] = counts[True][row].tolist()
    return normal, incident


def _is_error(code: str) -> bool:
    text = code.strip().lower()
    if text in {"error", "err", "fail", "failed", "failure", "true", "status_code_error", "2"}:
        return True
    try:
        return int(float(text)) >= 500
    except ValueError:
        return False


def trace_signals(case: RcaCase, spans: Sequence[Span] | None = None) -> Windows:
    """Per-component trace series (normal, incident), named ``<component>:span_…``."""
    spans = case.spans if spans is None else spans
    grid = _Grid(case, (s.time for s in spans))
    children: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for s in spans:
        if s.parent_span_id:
            children[(s.trace_id, s.parent_span_id)].append(s)
    # (component, incident?, bucket) → lists of self time, duration, error flags
    cells: dict[tuple[str, bool, int], list[tuple[float, float, bool, bool]]] = defaultdict(list)
    for s in spans:
        where = grid.locate(s.time)
        if where is None or not math.isfinite(s.duration_ms):
            continue
        kids = children.get((s.trace_id, s.span_id), [])
        child_time = sum(k.duration_ms for k in kids if math.isfinite(k.duration_ms))
        failed = _is_error(s.status_code)
        origin = failed and not any(_is_error(k.status_code) for k in kids)
        cells[(s.component, *where)].append((max(s.duration_ms - child_time, 0.0), s.duration_ms, failed, origin))
    kinds = ("span_self_ms_p90", "span_self_ms_mean", "span_latency_p90", "span_error_rate",
             "span_error_origin_rate", "span_calls")
    normal: dict[str, list[float]] = {}
    incident: dict[str, list[float]] = {}
    for component in sorted({c for c, _, _ in cells}):
        for inc, size, out in ((False, grid.n_normal, normal), (True, grid.n_incident, incident)):
            series = {k: [math.nan] * size for k in kinds}
            for bucket in range(size):
                rows = cells.get((component, inc, bucket))
                series["span_calls"][bucket] = float(len(rows or ()))
                if not rows:
                    continue
                arr = np.asarray(rows, dtype=np.float64)
                series["span_self_ms_p90"][bucket] = float(np.percentile(arr[:, 0], 90))
                series["span_self_ms_mean"][bucket] = float(arr[:, 0].mean())
                series["span_latency_p90"][bucket] = float(np.percentile(arr[:, 1], 90))
                series["span_error_rate"][bucket] = float(arr[:, 2].mean())
                series["span_error_origin_rate"][bucket] = float(arr[:, 3].mean())
            for kind, values in series.items():
                out[f"{component}:{kind}"] = values
    return normal, incident


def trace_topology(spans: Sequence[Span]) -> dict[str, list[str]]:
    """Caller → callee edges between components, read from parent/child spans."""
    owner = {(s.trace_id, s.span_id): s.component for s in spans}
    edges: dict[str, set[str]] = defaultdict(set)
    for s in spans:
        parent = owner.get((s.trace_id, s.parent_span_id)) if s.parent_span_id else None
        if parent and parent != s.component:
            edges[parent].add(s.component)
    return {k: sorted(v) for k, v in edges.items()}


def rank_case(case: RcaCase, config: RcaConfig | None = None) -> RcaResult:
    """Rank the components of ``case`` with every kind of evidence it carries (never its truth)."""
    cfg = config or RcaConfig()
    normal, incident = case.windows()
    if case.logs and cfg.use_logs:
        ln, li = log_signals(case)
        normal.update(ln)
        incident.update(li)
    if case.spans and cfg.use_traces:
        tn, ti = trace_signals(case)
        normal.update(tn)
        incident.update(ti)
    topology = case.topology or (trace_topology(case.spans) if case.spans else {})
    return rank_root_causes(
        normal,
        incident,
        topology or None,
        service_of_metric=component_of,
        config=replace(cfg),
        symptom=case.symptom_component,
        symptom_metric=case.symptom_metric,
        before=case.before_fault(),
    )
