"""Tell the cause from its symptoms with the call graph.

Why: a fault in a dependency shows in every caller on the request path (their latency rises, their
availability falls), often more loudly than in the dependency itself, so ranking by raw anomaly puts
victims first. The call graph says which way effects travel: from callee to caller. So

* a service's **request-path** evidence (latency, errors, availability, traffic) is discounted by
  ``explain`` × how clearly its most anomalous *callee* is anomalous: a callee that is broken
  explains why the caller looks broken. Its **local** evidence (CPU, memory, a span's self time)
  is never discounted: no callee makes a caller's CPU spin;
* a service whose *callers* degraded too gets up to ``caller_support`` more: the fault reached the
  services that depend on it, as a real cause's does.

When caller and callee report the *same* metric (the same name after the component, hence the same
unit), the discount is exact rather than soft: a callee whose latency rose by 30 ms explains at most
30 ms of its caller's rise, the way a span's self time is its duration minus its children's. The
rest is the caller's own.

A *leaf* (a component that calls nothing we can see) has no callees to explain it, yet it is often
an opaque hop (load balancer, proxy, a service seen only from its caller) in front of a backend the
graph shows beside it; its change of a metric is explained, as far as a peer's change of a metric of
the same category is clearly anomalous, by its peers (:func:`opaque_hop_peers`).

Effects travel the other way for **traffic**: a caller that fails, stalls or stops sends its callees
fewer requests, so a callee's traffic change is explained by its callers' anomaly, never by its own
callees (:func:`explain_by_callers`). The same holds for a callee that went *silent* because every
caller did; a silent component whose callers still run is gone by itself (a crash) and keeps it.
A callee explains its caller's request-path change only with evidence that can produce it
(:func:`~steadyops.rca.semantics.explains`: a callee whose traffic fell does not make its caller
fail), unless the callee is silent: a component that is gone explains errors and time-outs alike,
and wholly (its caller cannot serve what needs it, whatever the size of the caller's change). A
callee that reports the caller's very metric and kept it within its healthy excursion explains
nothing of the caller's change in it: it is demonstrably not failing (or slow) in that currency, so
a wobble elsewhere in it (memory, a CPU blip) did not reach its callers.

"Clearly anomalous" is a soft 0..1 degree: 0 at the service's normal-time excursion (score 1), 1 at
``threshold`` (the same bar the ranker uses for *inconclusive*). So nothing here is a new tuned
number; the two weights say "mostly explained" and "somewhat supported".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from steadyops.rca.scoring import MetricScore
from steadyops.rca.semantics import category_of, explains

__all__ = [
    "degree",
    "explain_by_callees",
    "explain_by_callers",
    "opaque_hop_peers",
    "reachable_from",
    "separate_causes",
]


def degree(score: float, threshold: float) -> float:
    """How clearly a score is anomalous, 0..1 (1 = at or beyond ``threshold``)."""
    if threshold <= 1.0:
        return 1.0 if score >= threshold else 0.0
    return min(max((score - 1.0) / (threshold - 1.0), 0.0), 1.0)


def _edges(topology: Mapping[str, Sequence[str]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    callees: dict[str, set[str]] = {}
    callers: dict[str, set[str]] = {}
    for caller, targets in topology.items():
        for callee in targets:
            if callee != caller:
                callees.setdefault(caller, set()).add(callee)
                callers.setdefault(callee, set()).add(caller)
    return callees, callers


def separate_causes(
    local: Mapping[str, float],
    path: Mapping[str, float],
    topology: Mapping[str, Sequence[str]],
    *,
    threshold: float = 2.0,
    explain: float = 0.9,
    caller_support: float = 0.5,
    explained_path: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Cause score per service from its local and request-path evidence and the call graph.

    ``explained_path`` (from :func:`explain_by_callees`) replaces the soft discount of ``path``
    when given.
    """
    callees, callers = _edges(topology)
    services = set(local) | set(path)
    anomaly = {s: max(local.get(s, 0.0), path.get(s, 0.0)) for s in services}
    out: dict[str, float] = {}
    for svc in services:
        support = max((degree(anomaly.get(w, 0.0), threshold) for w in callers.get(svc, ())), default=0.0)
        if explained_path is not None:
            own_path = explained_path.get(svc, 0.0)
        else:
            explained = max((degree(anomaly.get(u, 0.0), threshold) for u in callees.get(svc, ())), default=0.0)
            own_path = path.get(svc, 0.0) * (1.0 - explain * explained)
        out[svc] = max(local.get(svc, 0.0), own_path) * (1.0 + caller_support * support)
    return out


def explain_by_callees(
    metrics: Sequence[MetricScore],
    topology: Mapping[str, Sequence[str]],
    *,
    threshold: float = 2.0,
    explain: float = 0.9,
    opaque_hops: bool = True,
    gone_wholly: bool = True,
    quiet_callees: bool = True,
    residual_noise: bool = True,
) -> dict[str, float]:
    """Request-path evidence per service after its callees have explained what they can.

    For each non-local metric of a service: if a callee reports the same metric, the caller keeps
    only the share of its change (in native units) that exceeds the callee's change (weighed by how
    clearly that callee's change is an anomaly rather than its everyday noise), and a
    callee's clearly anomalous *local* evidence (a CPU hog) may still explain the rest softly;
    otherwise the soft discount by the callees' overall anomaly applies. With ``opaque_hops`` a
    leaf's change may also be explained by its peers' change of the same category (see
    :func:`opaque_hop_peers`). With ``gone_wholly`` a silent callee explains the whole change.
    """
    callees, _ = _edges(topology)
    evidence: dict[str, list[MetricScore]] = {}
    local_anomaly: dict[str, float] = {}
    # (service, kind) → (native change, score, native scale)
    change: dict[tuple[str, str], tuple[float, float, float]] = {}
    reported: dict[tuple[str, str], float] = {}  # (service, request-path kind) → its score
    by_category: dict[tuple[str, str], float] = {}  # (service, category of a request-path metric) → score
    for m in metrics:
        if not m.local:
            key_c = (m.service, category_of(m.kind))
            by_category[key_c] = max(by_category.get(key_c, 0.0), m.score)
            reported[(m.service, m.kind)] = max(reported.get((m.service, m.kind), 0.0), m.score)
        evidence.setdefault(m.service, []).append(m)
        if m.local:
            local_anomaly[m.service] = max(local_anomaly.get(m.service, 0.0), m.score)
        if m.scale > 0.0 and m.score > 0.0:
            key = (m.service, m.kind)
            change[key] = max(change.get(key, (0.0, 0.0, 0.0)), (m.raw * m.scale, m.score, m.scale))
    def explaining(service: str, kind: str) -> float:
        """The callee's strongest evidence that can produce a change of ``kind`` in its caller."""
        return max((e.score for e in evidence.get(service, ()) if e.silent or explains(e.kind, kind)), default=0.0)

    def gone(service: str) -> float:
        """How clearly the callee went silent (0 when it still runs)."""
        return max((degree(e.score, threshold) for e in evidence.get(service, ()) if e.silent), default=0.0)

    hops = opaque_hop_peers(topology) if opaque_hops else {}
    out: dict[str, float] = {}
    for m in metrics:
        if m.local:
            continue
        if category_of(m.kind) == "traffic" and not hops.get(m.service):
            out[m.service] = max(out.get(m.service, 0.0), m.score)  # callers explain traffic, not callees
            continue
        deps = callees.get(m.service, set())
        if quiet_callees:
            # a callee that reports this very metric and kept it within its healthy excursion is
            # demonstrably not failing (or slow) in this currency: whatever else it shows (a memory
            # wobble) did not reach its callers through it, so it explains nothing of their change
            # (a callee that is gone reports zeros, not health: it stays)
            deps = {u for u in deps if gone(u) > 0.0 or degree(reported.get((u, m.kind), threshold), threshold) > 0.0}
        same = [change[(u, m.kind)] for u in deps if (u, m.kind) in change]
        category = category_of(m.kind)
        peers = [by_category[(u, category)] for u in hops.get(m.service, ()) if (u, category) in by_category]
        if peers:
            # seen from in front of an opaque hop, the backend's change comes with the hop's own
            # handling of it (timeouts, retries, its own error pages), so it is bounded neither by
            # the backend's change in native units nor tied to the same statistic (a p99 in front,
            # the mean behind): the discount is the soft one, by how clearly the backend moved in
            # the same currency (latency, errors …, see ``semantics.category_of``). The discount is
            # whole, not ``explain``: a hop we cannot see into has nothing of its own to keep, and a
            # tenth of a proxy's huge relative change would still outrank the backend's cause
            value = m.score * (1.0 - max(degree(score, threshold) for score in peers))
            out[m.service] = max(out.get(m.service, 0.0), value)
            continue
        own = m.raw * m.scale
        if same and m.scale > 0.0 and own > 0.0:
            # a callee explains its share of the change only as far as it is itself anomalous
            explained, noise = max(
                (min(delta / own, 1.0) * degree(score, threshold), degree(score, threshold) * scale)
                for delta, score, scale in same
            )
            kept = 1.0 - explained
            if residual_noise and noise > 0.0:
                # what is kept is a difference of two noisy changes, so it carries the noise of both:
                # measured in the caller's scale alone, a caller whose p99 is steadier than its
                # callee's turns the callee's own noise into a huge residual of its own
                kept *= m.scale / math.hypot(m.scale, noise)
            softly = max((degree(local_anomaly.get(u, 0.0), threshold) for u in deps), default=0.0)
            value = m.score * kept * (1.0 - explain * softly)
        else:
            softly = max((degree(explaining(u, m.kind), threshold) for u in deps), default=0.0)
            # a callee that is gone explains its callers' failures wholly, as an opaque hop's backend
            # does: what is left of a caller's huge error surge after the soft discount would still
            # outrank the bounded evidence of the silence that caused it
            wholly = max((gone(u) for u in deps), default=0.0) if gone_wholly else 0.0
            value = m.score * (1.0 - max(explain * softly, wholly))
        out[m.service] = max(out.get(m.service, 0.0), value)
    return out


def explain_by_callers(
    metrics: Sequence[MetricScore],
    topology: Mapping[str, Sequence[str]],
    *,
    threshold: float = 2.0,
    explain: float = 0.9,
) -> list[MetricScore]:
    """``metrics`` with what the callers explain taken out: traffic changes and inherited silence.

    A callee's traffic change is discounted by ``explain`` × how clearly its most anomalous caller
    changed (a caller failing, stalling or gone sends fewer requests); a silent callee is discounted
    by ``explain`` only when every caller we have data for is silent too (nothing reaches it), and
    keeps its silence when a caller still runs. Components without callers keep everything.
    """
    _, callers = _edges(topology)
    anomaly: dict[str, float] = {}
    silent: set[str] = set()
    for m in metrics:
        anomaly[m.service] = max(anomaly.get(m.service, 0.0), m.score)
        if m.silent:
            silent.add(m.service)
    out: list[MetricScore] = []
    for m in metrics:
        ups = [w for w in callers.get(m.service, ()) if w in anomaly]
        if not ups:
            out.append(m)
            continue
        if m.silent:
            share = explain if all(w in silent for w in ups) else 0.0
        elif category_of(m.kind) == "traffic" and not m.local:
            share = explain * max(degree(anomaly[w], threshold) for w in ups)
        else:
            share = 0.0
        out.append(replace(m, score=m.score * (1.0 - share)) if share else m)
    out.sort(key=lambda s: (-s.score, s.metric))
    return out


def opaque_hop_peers(topology: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """For each leaf (a component that calls nothing we can see): the components it may stand in front of.

    Why: a component we only ever see from its callers (a load balancer, a proxy, a gateway, a
    service instrumented on the client side only) has no known callees, so nothing can explain its
    change and it is blamed for whatever happens behind it. The caller often also reaches that
    backend directly or through another path, so the graph shows the hop and the backend as two
    siblings. A leaf's peers are therefore the other callees of its callers, except those that reach
    the leaf themselves (their change may be the leaf's doing). A peer explains a leaf's change of a
    metric only when it reports a metric of the same category (latency, errors …) and that metric is
    itself clearly anomalous; a leaf whose
    peers are calm (a database that really is slow, whose callers' other dependencies are fine)
    keeps its evidence.
    """
    callees, callers = _edges(topology)
    out: dict[str, set[str]] = {}
    for leaf in callers:
        if callees.get(leaf):
            continue
        peers: set[str] = set()
        for caller in callers[leaf]:
            peers |= callees.get(caller, set())
        peers -= _ancestors(leaf, callers) | {leaf}
        if peers:
            out[leaf] = peers
    return out


def _ancestors(node: str, callers: Mapping[str, set[str]]) -> set[str]:
    """Every component that reaches ``node`` through its calls (one walk up the graph)."""
    seen: set[str] = set()
    stack = [node]
    while stack:
        for up in callers.get(stack.pop(), ()):
            if up not in seen:
                seen.add(up)
                stack.append(up)
    return seen


def reachable_from(start: str, topology: Mapping[str, Sequence[str]]) -> set[str]:
    """``start`` and every service it calls, directly or through others."""
    callees, _ = _edges(topology)
    seen = {start}
    stack = [start]
    while stack:
        for nxt in callees.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
