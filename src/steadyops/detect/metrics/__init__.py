"""Streaming metric anomaly detection: one detector per series, scores in [0, 1], no look-ahead.

``EnsembleDetector`` is the default. NAB's windowed scoring, which measures detectors the way
published ones are, is benchmark code and lives beside its benchmark (``bench/nab_scoring.py``).
"""

from steadyops.detect.metrics.base import MetricDetector, to_seconds
from steadyops.detect.metrics.ensemble import EnsembleConfig, EnsembleDetector

__all__ = ["EnsembleConfig", "EnsembleDetector", "MetricDetector", "to_seconds"]
