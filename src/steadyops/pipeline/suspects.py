"""Rank suspects for a live diagnosis: evidence moves through healthy hops, ties are broken by evidence.

Three things the plain per-target score gets wrong, and how this module fixes each:

* **Healthy hops.** A web probe → nginx → app chain where only the probe and the app are slow: nginx
  has no anomaly, so a propagation walk from the probe has nowhere to go and the probe ties with the
  app. We contract healthy targets out of the topology (a caller's dependencies are the nearest
  *anomalous* targets reached through healthy ones, within ``max_hops``) before running
  :func:`steadyops.rca.personalised_pagerank`, so the app — which explains the probe — wins.
* **Proxies.** A target whose only failures are in the ``upstream`` layer (nginx answering
  502/504) is up; it reports a fault *behind* it. Its own weight is cut to a fraction, so its
  dependency wins when known; when the upstream is not in the inventory, the candidate is marked
  ``via: upstream`` and the summary names "the upstream behind nginx", never nginx itself.
* **Ties.** Suspects whose scores are within :data:`CLOSE` of the leader are ordered by evidence:
  who failed first (onset, at least :data:`ONSET_GAP` apart), then who has CRITICAL evidence. When
  neither separates them the diagnosis is inconclusive — never decided by name order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from steadyops.rca import personalised_pagerank

__all__ = ["CLOSE", "ONSET_GAP", "UPSTREAM_SHARE", "Evidence", "co_causes", "judge", "rank"]

#: scores within this factor of the leader are a tie for the evidence to break
CLOSE = 1.25
#: onsets closer than this are "at the same time" (one inspection round spreads over seconds)
ONSET_GAP = timedelta(seconds=5)
#: what a proxy keeps of its own score when all it reports is a failing upstream
UPSTREAM_SHARE = 0.25


@dataclass
class Evidence:
    """Per target: anomaly score, CRITICAL or not, first failing observation, failing layers."""

    score: dict[str, float] = field(default_factory=dict)
    critical: set[str] = field(default_factory=set)
    onset: dict[str, datetime] = field(default_factory=dict)
    layers: dict[str, set[str]] = field(default_factory=dict)

    def saw(self, target: str, when: datetime, layer: str, critical: bool) -> None:
        if target not in self.onset or when < self.onset[target]:
            self.onset[target] = when
        if layer:
            self.layers.setdefault(target, set()).add(layer)
        if critical:
            self.critical.add(target)

    def proxy_only(self, target: str) -> bool:
        """Only ``upstream`` failures: the target answers, something behind it does not."""
        return self.layers.get(target, set()) == {"upstream"}


def _contract(topology: Mapping[str, Sequence[str]], anomalous: set[str], max_hops: int) -> dict[str, list[str]]:
    """Each anomalous target's nearest anomalous dependencies, walking through healthy ones."""
    out: dict[str, list[str]] = {}
    for start in anomalous:
        found: list[str] = []
        seen = {start}
        frontier = list(topology.get(start, ()))
        for _hop in range(max(1, max_hops)):
            nxt: list[str] = []
            for dep in frontier:
                if dep in seen:
                    continue
                seen.add(dep)
                if dep in anomalous:
                    found.append(dep)
                else:
                    nxt.extend(topology.get(dep, ()))
            frontier = nxt
        out[start] = sorted(set(found))
    return out


def rank(ev: Evidence, topology: Mapping[str, Sequence[str]], max_hops: int = 2) -> list[dict[str, Any]]:
    """Candidates, most likely first, with ``score`` / ``share`` / ``anomaly`` / ``critical`` / ``onset``."""
    if not ev.score:
        return []
    anomaly = dict(ev.score)
    behind: dict[str, list[str]] = {}
    for target in list(anomaly):
        if ev.proxy_only(target):
            behind[target] = [d for d in topology.get(target, ()) if d in topology]
            if behind[target]:  # the upstream is known: it carries the evidence, the proxy keeps a trace
                anomaly[target] *= UPSTREAM_SHARE
    known = {k: v for k, v in anomaly.items() if k in topology}
    ranking = dict(anomaly)
    if len(known) > 1:
        contracted = _contract(topology, set(known), max_hops)
        ranking.update(personalised_pagerank(known, contracted))
    total = sum(ranking.values()) or 1.0
    ranked = sorted(ranking.items(), key=lambda kv: -kv[1])
    out = []
    for t, s in ranked:
        if s <= 0:
            continue
        row: dict[str, Any] = {"target": t, "score": round(s, 4), "share": round(s / total, 3),
                               "anomaly": ev.score.get(t, 0.0), "critical": t in ev.critical,
                               "onset": ev.onset[t].isoformat() if t in ev.onset else None}
        if t in behind and not any(d in ranking for d in behind[t]):
            row["via"] = "upstream"  # its upstream failed, and we do not watch (or see) it
        out.append(row)
    return _break_ties(out, ev)


def _close(ranked: list[dict[str, Any]]) -> int:
    """How many candidates from the top are within :data:`CLOSE` of the leader's score."""
    if not ranked:
        return 0
    top = ranked[0]["score"]
    return sum(1 for c in ranked if c["score"] * CLOSE > top)


def _break_ties(ranked: list[dict[str, Any]], ev: Evidence) -> list[dict[str, Any]]:
    """Order the close group by onset (bucketed by :data:`ONSET_GAP`), then CRITICAL first, then score."""
    n = _close(ranked)
    if n < 2:
        return ranked
    group = ranked[:n]
    first = min((ev.onset[c["target"]] for c in group if c["target"] in ev.onset), default=None)

    def bucket(c: dict[str, Any]) -> float:
        when = ev.onset.get(c["target"])
        if when is None or first is None:
            return float("inf")
        return (when - first) // ONSET_GAP

    group.sort(key=lambda c: (bucket(c), not c["critical"], -c["score"]))
    for c in group:  # stored as JSON: no infinity (PostgreSQL's json rejects it), None for "no onset"
        b = bucket(c)
        c["tie_break"] = {"onset_bucket": None if b == float("inf") else int(b), "critical": c["critical"]}
    return group + ranked[n:]


def co_causes(ranked: list[dict[str, Any]]) -> list[str]:
    """Suspects tied with the leader on critical evidence: several members down is several causes."""
    if not ranked or not ranked[0].get("critical"):
        return []
    top = max(c["score"] for c in ranked[:_close(ranked)] or ranked[:1])
    return [c["target"] for c in ranked[1:] if c.get("critical") and c["score"] * CLOSE > top]


def judge(ranked: list[dict[str, Any]]) -> tuple[bool, float]:
    """``(inconclusive, confidence)``: conclusive when one suspect clearly leads (alone, or by
    :data:`CLOSE`), when the evidence separates the close ones (earlier onset, or the only CRITICAL
    one), or when the leaders are tied on critical evidence (co-causes)."""
    if not ranked:
        return True, 0.0
    if len(ranked) == 1:
        return False, min(0.9, 0.5 + 0.1 * ranked[0]["anomaly"])
    also = set(co_causes(ranked))  # a set: a storm's incident ranks thousands of suspects
    conf = round(ranked[0]["share"] + sum(c["share"] for c in ranked if c["target"] in also), 3)
    if _close(ranked) < 2 or also:
        return False, conf
    lead, second = ranked[0].get("tie_break", {}), ranked[1].get("tie_break", {})

    first, then = lead.get("onset_bucket"), second.get("onset_bucket")
    earlier = first is not None and then is not None and first < then  # an unknown onset separates nothing
    separated = earlier or bool(lead.get("critical") and not second.get("critical"))
    return not separated, conf
