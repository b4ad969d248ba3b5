"""Rank one :class:`~steadyops.rca.cases.RcaCase`: metrics, logs and traces as one kind of evidence.

Why one kind: logs and traces are turned into per-component time series on the metrics' own time
grid and then scored by the same robust scorer. So a log or trace signal means "k times its largest
excursion while healthy", exactly like a metric. Each kind of evidence is ranked on its own (scores,
cause/symptom separation on the call graph) and the rankings are summed per component
(:func:`~steadyops.rca.ranking.fuse_results`): agreement between kinds adds up, a missing kind adds
nothing, and there are no weights to fit between them.

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
  error started here, local). A failed span *without* children, of a component whose spans usually
  have some, is not counted: the call it should have made left no span (the callee was gone, or the
  call never went out), so where the error began cannot be read from the trace; such a span still
  counts in ``span_error_rate``. When that callee answered nobody in the same bucket (it is gone),
  the error is counted as the callee's origin instead; otherwise the caller failed before calling;
  ``span_error_rate`` and ``span_latency_p90`` — request-path view;
* ``span_calls`` — spans per bucket (traffic);
* ``span_answered`` — share of the calls made to the component that it answered (a span of its own,
  against its callers' failed calls placed on it above). At 0 through the incident it is *gone*, as
  a component whose log lines stop is (``scoring.ACTIVITY_KINDS``), so its callers' slower and
  failed requests are its doing in the trace evidence too;
* ``span_wire_ms_p90`` — time of the client spans calling the component outside its server span
  (network, queues, pools; see :func:`_client_spans`), local: a delay at its interface
  that its own spans never see. That time is not in the caller's self time.

When a case has no topology, caller → callee edges are read from the traces' parent/child spans.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from steadyops.core.heap import paused as paused_gc
from steadyops.detect.logs import MinerConfig, TemplateMiner
from steadyops.rca.cases import LogRecord, RcaCase, Span, component_of
from steadyops.rca.ranking import RcaConfig, RcaResult, fuse_results, rank_root_causes

__all__ = ["log_signals", "rank_case", "trace_signals", "trace_topology"]

Windows = tuple[dict[str, list[float]], dict[str, list[float]]]

_ERROR_WORDS = re.compile(
    r"\b(?:error|errors|err|exception|exceptions|fail|fails|failed|failure|fatal|panic|timeout|"
    r"timed out|refused|denied|unavailable|unreachable|traceback|critical|severe|abort|aborted|"
    r"crash|crashed|killed|oom|out of memory|reset by peer|broken pipe)\b",
    re.IGNORECASE,
)
EVENT_STEP = 60.0
"""Shortest bucket for log lines and spans: a minute, the usual resolution of log-based monitoring.
Events are counted, and a count or a percentile over a second or two of a quiet service is mostly
zeros and single samples: finer metrics (scraped every second) must not make the events' buckets
as fine."""


MINER = MinerConfig(max_candidates=64)
"""The miner's defaults, but a new line is compared with at most 64 templates of its bucket (same
length, same first word): a component writing free text makes a template of nearly every line, and
comparing each with all before it was quadratic (10,000 such lines took 95 s; 50,000 now take 6 s).
The simulator's components have at most 2 templates in a bucket, far below the bound."""


def _step(case: RcaCase) -> float:
    """The metrics' own step, but not below :data:`EVENT_STEP`, nor above a third of the incident
    window (the scorer smooths over three buckets)."""
    times = sorted(set(t for t in case.times if math.isfinite(t)))
    step = EVENT_STEP
    if len(times) >= 2:
        diffs = np.diff(np.asarray(times, dtype=np.float64))
        step = max(float(np.median(diffs)), EVENT_STEP)
    if case.end is not None and case.end > case.fault_start:
        step = min(step, max((case.end - case.fault_start) / 3.0, 1.0))
    return step


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
        miner = TemplateMiner(MINER)
        ids = _template_ids(miner, (msg for _, _, msg in lines))
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
        empty: set[int] = set()
        for (inc, bucket, _), tid in zip(lines, ids, strict=True):
            seen = normal_buckets.get(tid, empty)
            # new: in no normal bucket (for a normal line: in none but its own)
            novel = (not seen or (len(seen) == 1 and bucket in seen)) if not inc else not seen
            counts[inc][0, bucket] += 1
            counts[inc][1, bucket] += is_error.get(tid, False)
            counts[inc][2, bucket] += novel
        for row, kind in enumerate(("log_lines", "log_error_lines", "log_new_templates")):
            normal[f"{component}:{kind}"] = counts[False][row].tolist()
            incident[f"{component}:{kind}"] = counts[True][row].tolist()
    return normal, incident


def _template_ids(miner: TemplateMiner, messages: Iterable[str], remember: int = 1 << 16) -> list[int]:
    """Each message's template id. A message seen before has the template it had (mining the same
    text again changes nothing but a count), so repeats (health checks, polls) skip the miner; at
    most ``remember`` messages are kept, since most lines of a real log carry an id of their own."""
    known: dict[str, int] = {}
    ids: list[int] = []
    for msg in messages:
        tid = known.get(msg)
        if tid is None:
            if len(known) >= remember:
                known.clear()
            tid = known[msg] = miner.learn(msg)
        ids.append(tid)
    return ids


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
    # each span's bucket and verdict once: a span is read again as every parent's child
    where = [grid.locate(s.time) for s in spans]
    verdicts: dict[str, bool] = {}
    codes = (s.status_code for s in spans)
    failed = [verdicts[c] if c in verdicts else verdicts.setdefault(c, _is_error(c)) for c in codes]
    children: dict[tuple[str, str], list[int]] = defaultdict(list)
    none: list[int] = []
    for i, s in enumerate(spans):
        if s.parent_span_id:
            children[(s.trace_id, s.parent_span_id)].append(i)
    expected, usually_calls, sometimes = _expected_callees(spans, children, where)
    client_of = _client_spans(spans, children)
    # (component, incident?, bucket) → lists of self time, duration, error flags
    cells: dict[tuple[str, bool, int], list[tuple[float, float, bool, bool]]] = defaultdict(list)
    unanswered: dict[tuple[str, bool, int], int] = defaultdict(int)
    wire: dict[tuple[str, bool, int], list[float]] = defaultdict(list)  # (callee, window, bucket) → ms
    # (cell, row, callees that may have left no span, the span's verdict when every one of them answered)
    pending: list[tuple[tuple[str, bool, int], int, list[str], bool]] = []
    for i, (s, at, bad) in enumerate(zip(spans, where, failed, strict=True)):
        if at is None or not math.isfinite(s.duration_ms):
            continue
        kids = children.get((s.trace_id, s.span_id), none)
        child_time = sum(d for d in (spans[k].duration_ms for k in kids) if math.isfinite(d))
        origin = bad and not any(failed[k] for k in kids)
        cell = (s.component, *at)
        if origin:
            present = {spans[k].component for k in kids}
            missing = [c for c in expected.get((s.component, s.operation), ()) if c not in present]
            if missing:  # the first call it always makes left no span: decided below
                pending.append((cell, len(cells[cell]), missing[:1], True))
                origin = False
            elif not kids:
                # a call went out (or never did) and left no span: not ours to place, unless a callee
                # this operation calls now and then, and that answers in most buckets, answered nobody
                placed = not usually_calls.get(s.component, False)
                maybe = sometimes.get((s.component, s.operation), [])
                if maybe:
                    pending.append((cell, len(cells[cell]), maybe, placed))
                origin = False if maybe else placed
        self_time = max(s.duration_ms - child_time, 0.0)
        callee = client_of.get(i)
        if callee is not None:
            # the time of a client span outside its callee's server span is the wire (network,
            # queues, connection pools): not the caller's own work, and the callee's to explain
            wire[(callee, *at)].append(self_time)
            self_time = math.nan
        cells[cell].append((self_time, s.duration_ms, bad, origin))
    for key, index, callees, own in pending:
        # a callee that answered nobody in that bucket did not answer this call either. Otherwise the
        # caller failed before making the call, and the error is the caller's own
        gone = next((c for c in callees if not cells.get((c, key[1], key[2]))), None)
        if gone is not None:
            unanswered[(gone, key[1], key[2])] += 1
            # its time went on the call that nobody answered (connecting, retrying, timing out):
            # not the caller's own work, so it leaves the self-time statistics
            row = cells[key][index]
            cells[key][index] = (math.nan, row[1], row[2], row[3])
        elif own:
            row = cells[key][index]
            cells[key][index] = (row[0], row[1], row[2], True)
    kinds = ("span_self_ms_p90", "span_self_ms_mean", "span_latency_p90", "span_error_rate",
             "span_error_origin_rate", "span_calls", "span_answered", "span_wire_ms_p90")
    normal: dict[str, list[float]] = {}
    incident: dict[str, list[float]] = {}
    for component in sorted({c for c, _, _ in cells} | {c for c, _, _ in unanswered} | {c for c, _, _ in wire}):
        for inc, size, out in ((False, grid.n_normal, normal), (True, grid.n_incident, incident)):
            series = {k: [math.nan] * size for k in kinds}
            for bucket in range(size):
                rows = cells.get((component, inc, bucket))
                lost = unanswered.get((component, inc, bucket), 0)
                series["span_calls"][bucket] = float(len(rows or ()))
                if rows or lost:
                    series["span_answered"][bucket] = len(rows or ()) / (len(rows or ()) + lost)
                waits = wire.get((component, inc, bucket))
                if waits:
                    series["span_wire_ms_p90"][bucket] = float(np.percentile(waits, 90))
                if lost:
                    tried = len(rows or ()) + lost
                    failed_here = sum(r[2] for r in rows or ()) + lost
                    series["span_error_rate"][bucket] = failed_here / tried
                    series["span_error_origin_rate"][bucket] = (sum(r[3] for r in rows or ()) + lost) / tried
                if not rows:
                    continue
                arr = np.asarray(rows, dtype=np.float64)
                self_ms = arr[:, 0][np.isfinite(arr[:, 0])]
                if self_ms.size:
                    series["span_self_ms_p90"][bucket] = float(np.percentile(self_ms, 90))
                    series["span_self_ms_mean"][bucket] = float(self_ms.mean())
                series["span_latency_p90"][bucket] = float(np.percentile(arr[:, 1], 90))
                if not lost:
                    series["span_error_rate"][bucket] = float(arr[:, 2].mean())
                    series["span_error_origin_rate"][bucket] = float(arr[:, 3].mean())
            for kind, values in series.items():
                out[f"{component}:{kind}"] = values
        _shrink_thin_buckets(normal, incident, component)
    return normal, incident


#: Per-bucket estimates of time: their noise grows as a bucket holds fewer spans.
_ESTIMATES = ("span_self_ms_p90", "span_self_ms_mean", "span_latency_p90", "span_wire_ms_p90")


def _client_spans(spans: Sequence[Span], children: Mapping[tuple[str, str], Sequence[int]]) -> dict[int, str]:
    """Client spans (the caller's record of one call to another component), by index, and the callee.

    Read from the shape, since the case format has no span kind: its parent is a span of the same
    component (the work that made the call) and every child is the one callee's (its server span).
    A server span that calls others directly has a parent in its caller, so it is never one.
    """
    out: dict[int, str] = {}
    for parent in spans:
        for k in children.get((parent.trace_id, parent.span_id), ()):
            span = spans[k]
            if span.component != parent.component:
                continue
            callees = {spans[c].component for c in children.get((span.trace_id, span.span_id), ())}
            if len(callees) == 1 and span.component not in callees:
                out[k] = next(iter(callees))
    return out


def _shrink_thin_buckets(normal: dict[str, list[float]], incident: dict[str, list[float]], component: str) -> None:
    """Pull a bucket's time estimates towards the normal median by √(its spans / the usual spans).

    Why: a p90 of 35 spans strays about √(189/35) ≈ 2.3 times as far as one of 189, so a component
    whose traffic fell (its caller crashed, a gateway shed load) would look slower than it ever was
    while healthy, from sampling alone, and be blamed. Scaling the deviation by √(n / n₀) puts every
    bucket in the same units as the usual one (the standard error of a mean or quantile goes as
    1/√n); buckets at or above the usual count are left as they are, so a real slowdown keeps its
    size wherever traffic holds, and shrinks only as far as the thinner sample warrants.
    """
    counts = np.asarray(normal[f"{component}:span_calls"], dtype=np.float64)
    busy = counts[counts > 0]
    if not busy.size:
        return
    usual = float(np.median(busy))
    for kind in _ESTIMATES:
        key = f"{component}:{kind}"
        base = np.asarray(normal[key], dtype=np.float64)
        if not np.isfinite(base).any():
            continue
        centre = float(np.nanmedian(base))
        for window in (normal, incident):
            n = np.asarray(window[f"{component}:span_calls"], dtype=np.float64)
            values = np.asarray(window[key], dtype=np.float64)
            weight = np.sqrt(np.clip(n / usual, 0.0, 1.0))
            window[key] = list(np.where(np.isfinite(values), centre + (values - centre) * weight, values))


def _expected_callees(
    spans: Sequence[Span],
    children: Mapping[tuple[str, str], Sequence[int]],
    where: Sequence[tuple[bool, int] | None],
) -> tuple[dict[tuple[str, str], list[str]], dict[str, bool], dict[tuple[str, str], list[str]]]:
    """From the normal window: per (component, operation), the callees most of its spans call, in the
    order they are called; per component, whether most of its spans call anything at all; and per
    (component, operation), the other callees it calls now and then that answer in most buckets
    (so their answering nobody in a bucket is news), most called first."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    per_component: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    calls: dict[tuple[str, str, str], list[float]] = defaultdict(list)  # (caller, op, callee) → start offsets
    buckets: dict[str, set[int]] = defaultdict(set)  # component → normal buckets it answered in
    for s, at in zip(spans, where, strict=True):
        if at is None or at[0]:
            continue
        buckets[s.component].add(at[1])
        kids = children.get((s.trace_id, s.span_id), ())
        totals[(s.component, s.operation)] += 1
        per_component[s.component][0] += bool(kids)
        per_component[s.component][1] += 1
        first: dict[str, float] = {}
        for k in kids:
            kid = spans[k]
            if kid.component != s.component:
                first[kid.component] = min(first.get(kid.component, math.inf), kid.time - s.time)
        for callee, offset in first.items():
            calls[(s.component, s.operation, callee)].append(offset)
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (caller, op, callee), offsets in sorted(calls.items(), key=lambda kv: float(np.median(kv[1]))):
        if 2 * len(offsets) > totals[(caller, op)]:
            expected[(caller, op)].append(callee)
    active = len(set().union(*buckets.values())) if buckets else 0
    sometimes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for caller, op, callee in sorted(calls, key=lambda key: -len(calls[key])):
        if callee not in expected.get((caller, op), ()) and 2 * len(buckets[callee]) > active:
            sometimes[(caller, op)].append(callee)
    return dict(expected), {c: 2 * kids > n for c, (kids, n) in per_component.items()}, dict(sometimes)


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
    """Rank the components of ``case`` with every kind of evidence it carries (never its truth).

    Metrics, logs and traces are ranked each on their own (same scorer, same call graph) and the
    rankings fused by :func:`~steadyops.rca.ranking.fuse_results`: one kind of evidence cannot hide
    another's agreement, and a kind that is missing or empty simply contributes nothing.
    """
    with paused_gc():  # per-line and per-span tuples by the million, no cycle among them
        return _rank_case(case, config or RcaConfig())


def _rank_case(case: RcaCase, cfg: RcaConfig) -> RcaResult:
    topology = case.topology or (trace_topology(case.spans) if case.spans else {})
    kinds: list[Windows] = [case.windows()]
    if case.logs and cfg.use_logs:
        kinds.append(log_signals(case))
    if case.spans and cfg.use_traces:
        kinds.append(trace_signals(case))
    before = case.before_fault()
    results = [
        rank_root_causes(
            normal,
            incident,
            topology or None,
            service_of_metric=component_of,
            config=cfg,
            symptom=case.symptom_component,
            symptom_metric=case.symptom_metric,
            before=before if i == 0 else None,
        )
        for i, (normal, incident) in enumerate(kinds)
        if normal
    ]
    if not results:
        return rank_root_causes({}, {}, None, config=cfg)
    return fuse_results(results, config=cfg, topology=topology or None, symptom=case.symptom_component)
