"""Root-cause ranking: robust metric scoring, optional propagation over the topology, inconclusive flag.

Entry point: :func:`rank_root_causes`. See ``scoring`` for why each metric is scored the way it is,
``propagation`` for how the dependency graph reorders suspects, ``changepoint`` for splitting one
window into normal and incident parts.
"""

from __future__ import annotations

from steadyops.rca.changepoint import find_change_point, split_at_change_point
from steadyops.rca.propagation import personalised_pagerank
from steadyops.rca.ranking import Candidate, RcaConfig, RcaResult, rank_root_causes
from steadyops.rca.scoring import MetricScore, ScoringConfig, score_metric, score_metrics, service_of

__all__ = [
    "Candidate",
    "MetricScore",
    "RcaConfig",
    "RcaResult",
    "ScoringConfig",
    "find_change_point",
    "personalised_pagerank",
    "rank_root_causes",
    "score_metric",
    "score_metrics",
    "service_of",
    "split_at_change_point",
]
