"""Streaming metric anomaly detection: one detector per series, scores in [0, 1], no look-ahead.

``EnsembleDetector`` is the default; ``scoring`` implements NAB's windowed scoring so detectors can
be measured the way published ones are (``bench/nab.py``).
"""

from steadyops.detect.metrics.base import MetricDetector, to_seconds
from steadyops.detect.metrics.ensemble import EnsembleConfig, EnsembleDetector

__all__ = ["EnsembleConfig", "EnsembleDetector", "MetricDetector", "to_seconds"]
