"""Move anomaly evidence along the dependency graph towards the service that explains it.

Why: a fault in a dependency shows up in every caller (their latency and retries go up), often more
loudly than in the dependency itself, so ranking by raw anomaly puts victims first. When the topology
is known we run a **personalised PageRank** in the style of MicroRCA / CloudRanger:

* the walk starts at services in proportion to their anomaly (the personalisation vector);
* from a service it steps to each **dependency** in proportion to that dependency's anomaly — an
  anomalous dependency is the likelier explanation of the caller's symptoms;
* it steps back to **callers** only weakly (``backward``), so a root with anomalous callers is not a
  dead end;
* it **stays** with weight ``anomaly(u) - max anomaly of u's dependencies`` when positive: a service
  more anomalous than anything it depends on explains itself.

A caller whose dependencies are all healthy keeps its mass (its self-loop dominates), so the graph
only reorders services when a dependency really is anomalous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["personalised_pagerank"]


def personalised_pagerank(
    anomaly: Mapping[str, float],
    topology: Mapping[str, Sequence[str]],
    *,
    restart: float = 0.15,
    backward: float = 0.1,
    iterations: int = 200,
    tolerance: float = 1e-12,
) -> dict[str, float]:
    """Redistribute ``anomaly`` (service → non-negative score) over ``topology`` (service → dependencies).

    Returns a score per service of ``anomaly`` on the same total scale (stationary probability times
    the total anomaly), so results stay comparable with unpropagated scores. Services named only in
    the topology act as conduits but are not returned.
    """
    nodes = sorted(set(anomaly) | set(topology) | {d for deps in topology.values() for d in deps})
    index = {name: i for i, name in enumerate(nodes)}
    n = len(nodes)
    a = np.array([max(anomaly.get(name, 0.0), 0.0) for name in nodes], dtype=np.float64)
    total = float(a.sum())
    if n == 0 or total <= 0.0:
        return {name: 0.0 for name in anomaly}

    deps: list[set[int]] = [set() for _ in range(n)]
    callers: list[set[int]] = [set() for _ in range(n)]
    for caller, targets in topology.items():
        for dep in targets:
            if dep != caller:
                deps[index[caller]].add(index[dep])
                callers[index[dep]].add(index[caller])

    personal = a / total
    transition = np.zeros((n, n), dtype=np.float64)  # row-stochastic: transition[u, v] = P(u -> v)
    for u in range(n):
        row = transition[u]
        for v in deps[u]:
            row[v] += a[v]
        for w in callers[u]:
            row[w] += backward * a[w]
        strongest_dep = max((a[v] for v in deps[u]), default=0.0)
        row[u] += max(a[u] - strongest_dep, 0.0)
        mass = row.sum()
        transition[u] = row / mass if mass > 0.0 else personal

    pi = personal.copy()
    for _ in range(iterations):
        nxt = (1.0 - restart) * (pi @ transition) + restart * personal
        if float(np.abs(nxt - pi).sum()) < tolerance:
            pi = nxt
            break
        pi = nxt
    return {name: float(pi[index[name]]) * total for name in anomaly}
