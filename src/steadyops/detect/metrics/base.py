"""The contract every streaming metric detector keeps.

Why a contract at all: diagnosis keeps one detector per metric series, feeds it points as they
arrive from Prometheus (or a file), and must be able to persist it between runs. So a detector

* sees each point once, in arrival order, and never looks ahead: ``update`` returns the score for the
  point it was just given, computed from that point and the past only;
* returns a score in ``[0, 1]`` (0 = normal, 1 = certainly anomalous) so one threshold can be shared
  by every series;
* can be frozen with ``state()`` and thawed with ``from_state()`` (plain pickle: only thaw state
  this process wrote itself, never bytes from an untrusted source).
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Self

__all__ = ["MetricDetector", "to_seconds"]


def to_seconds(timestamp: datetime | float) -> float:
    """Epoch seconds of a timestamp; naive datetimes are taken as UTC (seasonality uses the phase)."""
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
        return timestamp.timestamp()
    return float(timestamp)


class MetricDetector(ABC):
    """A streaming anomaly detector for one metric series."""

    @abstractmethod
    def update(self, timestamp: datetime | float, value: float) -> float:
        """Consume the next point (in arrival order) and return its score in [0, 1]."""

    def state(self) -> bytes:
        """Everything the detector has learned, as bytes to store beside the series."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_state(cls, blob: bytes) -> Self:
        """Rebuild a detector saved by :meth:`state` (trusted bytes only: this is pickle)."""
        obj = pickle.loads(blob)
        if not isinstance(obj, cls):
            raise TypeError(f"state holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj
