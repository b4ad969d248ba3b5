"""Root-cause ranking: robust metric scoring, optional propagation over the topology, inconclusive flag.

Entry points: :func:`rank_case` (one case in the format of :mod:`steadyops.rca.cases`: metrics,
logs, traces, topology) and :func:`rank_root_causes` (metric windows only). ``scoring`` says how
each metric is scored, ``semantics`` how a name gives its direction, ``separation`` how the call
graph tells cause from symptom, ``multimodal`` how logs and traces become evidence,
``propagation`` the older PageRank, ``changepoint`` how one window is split into normal and incident,
``tables`` how a case's CSV files are read (by columns, strictly).
"""

from __future__ import annotations

from steadyops.rca.cases import (
    LogRecord,
    RcaCase,
    Span,
    component_of,
    discover_cases,
    load_case,
    write_case,
)
from steadyops.rca.changepoint import find_change_point, split_at_change_point
from steadyops.rca.multimodal import log_signals, rank_case, trace_signals, trace_topology
from steadyops.rca.propagation import personalised_pagerank
from steadyops.rca.ranking import Candidate, RcaConfig, RcaResult, fuse_results, rank_root_causes
from steadyops.rca.scoring import MetricScore, ScoringConfig, score_metric, score_metrics, service_of
from steadyops.rca.semantics import Direction, category_of, direction_of, explains, is_local
from steadyops.rca.separation import (
    explain_by_callees,
    explain_by_callers,
    opaque_hop_peers,
    reachable_from,
    separate_causes,
)

__all__ = [
    "Candidate",
    "Direction",
    "LogRecord",
    "MetricScore",
    "RcaCase",
    "RcaConfig",
    "RcaResult",
    "ScoringConfig",
    "Span",
    "category_of",
    "component_of",
    "direction_of",
    "discover_cases",
    "explain_by_callees",
    "explain_by_callers",
    "explains",
    "find_change_point",
    "fuse_results",
    "is_local",
    "load_case",
    "log_signals",
    "opaque_hop_peers",
    "personalised_pagerank",
    "rank_case",
    "rank_root_causes",
    "reachable_from",
    "score_metric",
    "score_metrics",
    "separate_causes",
    "service_of",
    "split_at_change_point",
    "trace_signals",
    "trace_topology",
    "write_case",
]
