"""What a metric's name says about it: which direction of change is bad, and whether it propagates.

Why: a ranker that only scores increases never sees an availability or a request rate fall, and a
ranker that scores both directions of everything lets every victim whose traffic dropped outrank the
culprit. The name of a metric is the one piece of meaning every system offers, so we read it with
general English vocabulary of monitoring (never with names seen in one data set):

* **direction** — ``UP`` is bad for latency, errors, saturation, resource use (and any name we do not
  recognise, as BARO and NSigma assume); ``DOWN`` is bad for availability / success / uptime / hit
  ratios; ``BOTH`` for traffic (throughput, qps, request counts): a fall means requests stopped
  arriving, a rise is an overload.
* **locality** — a resource metric (CPU, memory, disk, file descriptors, GC, threads, a span's *self*
  time, errors a span originated, the *wire* time of the calls made to it) describes the component
  itself; a request-path metric (latency,
  errors, availability, traffic) also moves when something the component *calls* is broken. Only
  request-path evidence can be explained away by an anomalous callee.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

__all__ = ["Direction", "category_of", "direction_of", "explains", "is_local"]


def _vocab(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Direction(Enum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"


_BAD_UP = _vocab(
    """
    error errors err errs fail fails failed failure failures fault faults exception exceptions
    timeout timeouts timedout latency lat duration durations delay delays time times elapsed wait
    waiting rt p50 p90 p95 p99 p999 queue queued backlog pending lag retry retries retransmit
    retransmits drop drops dropped reject rejected rejects throttle throttled 4xx 5xx 500 503 504
    cpu mem memory rss heap gc swap disk io iowait load saturation usage used util utilization
    utilisation restart restarts oom kill killed fd fds descriptors thread threads conn conns
    connections self miss misses
    """
)
_GOOD_LEVEL = _vocab(
    """
    availability available avail success successes succeeded successful uptime healthy apdex hit
    hits goodput free idle answered
    """
)
"""Words naming a level that is good to have; they win over resource words (``mem_free``)."""
_BAD_DOWN = _vocab(
    """
    ok up health
    """
)
_TRAFFIC = _vocab(
    """
    throughput qps rps tps ops rate requests request req reqs calls call invocations count counts
    sum sent received rx tx packets messages msgs lines
    """
)
_LOCAL = _vocab(
    """
    cpu mem memory rss heap gc swap disk io iowait fd fds descriptors thread threads oom restart
    restarts kill killed self origin originated wire
    """
)
_ERRORS = _vocab(
    """
    error errors err errs fail fails failed failure failures fault faults exception exceptions
    timeout timeouts timedout 4xx 5xx 500 503 504 availability available avail success successes
    succeeded successful apdex reject rejected rejects ok health healthy up uptime
    """
)
_LATENCY = _vocab(
    """
    latency lat duration durations delay delays time times elapsed wait waiting rt p50 p90 p95 p99
    p999 queue queued backlog pending lag
    """
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+[a-z]*")


@lru_cache(maxsize=4096)
def _words(metric: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(metric))


@lru_cache(maxsize=4096)
def direction_of(metric: str) -> Direction:
    """Which direction of change is bad for ``metric`` (its name after the component)."""
    words = set(_words(metric))
    if words & _GOOD_LEVEL:
        return Direction.DOWN
    if words & _BAD_UP:
        return Direction.UP
    if words & _BAD_DOWN:
        return Direction.DOWN
    if words & _TRAFFIC:
        return Direction.BOTH
    return Direction.UP


@lru_cache(maxsize=4096)
def is_local(metric: str) -> bool:
    """True when ``metric`` describes the component's own resources, not the requests through it."""
    return bool(set(_words(metric)) & _LOCAL)


@lru_cache(maxsize=4096)
def category_of(metric: str) -> str:
    """``errors``, ``latency``, ``resource``, ``traffic`` or ``other`` — what kind of symptom it is."""
    words = set(_words(metric))
    if words & _ERRORS:
        return "errors"
    if words & _LOCAL:
        return "resource"
    if words & _LATENCY:
        return "latency"
    if words & _TRAFFIC:
        return "traffic"
    return "other"


def explains(evidence: str, symptom: str) -> bool:
    """Can a change in metric ``evidence`` at the cause show up as a change in metric ``symptom``?

    A fault travels up the call path in its own currency: a slow dependency makes its callers slow,
    a failing one makes them fail. A resource running out (CPU, memory …) can do either. So a latency
    symptom is explained by latency or resource evidence, an error/availability symptom by error or
    resource evidence; a traffic change is how load arrives, not a failure of the component that
    carries it, so it explains neither. Symptoms of other kinds accept every kind of evidence.
    """
    want = category_of(symptom)
    if want not in ("latency", "errors"):
        return True
    return category_of(evidence) in (want, "resource", "other")
