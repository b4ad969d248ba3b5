"""The helpers every check uses: labels read the same way everywhere, grades and verdicts combine alike."""

from __future__ import annotations

import math

import pytest

import steadyops
from steadyops.contracts.checks import grade, grade_low, label_bool, label_float, label_int, verdict, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus, Evidence

OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def target(**labels: str) -> Target:
    return Target(name="t", kind="redis", labels=labels)


@pytest.mark.parametrize(("raw", "expected"), [
    ("80", 80.0), (" 2.5 ", 2.5), ("-1", -1.0), ("1e3", 1000.0),
    ("", 7.0), ("eighty", 7.0), ("80%", 7.0), ("nan", 7.0),  # a typo falls back, it never disables the check
])
def test_label_float(raw: str, expected: float) -> None:
    assert label_float(target(x=raw), "x", 7.0) == expected


def test_label_float_missing_and_infinite() -> None:
    assert label_float(target(), "x", 7.0) == 7.0
    assert math.isinf(label_float(target(x="inf"), "x", 7.0))  # a threshold switched off on purpose


@pytest.mark.parametrize(("raw", "expected"), [
    ("3", 3), (" 3 ", 3), ("3.0", 3), ("-2", -2), ("0", 0),
    ("", 5), ("2.5", 5), ("three", 5), ("inf", 5), ("nan", 5),
])
def test_label_int(raw: str, expected: int) -> None:
    assert label_int(target(x=raw), "x", 5) == expected


def test_label_int_missing() -> None:
    assert label_int(target(), "x", 5) == 5


@pytest.mark.parametrize(("raw", "default", "expected"), [
    ("true", False, True), ("YES", False, True), ("1", False, True), (" on ", False, True),
    ("false", True, False), ("No", True, False), ("0", True, False), ("off", True, False),
    ("", True, True), ("", False, False), ("maybe", True, True), ("maybe", False, False),
])
def test_label_bool(raw: str, default: bool, expected: bool) -> None:
    assert label_bool(target(x=raw), "x", default) is expected
    assert label_bool(target(), "x", default) is default


@pytest.mark.parametrize(("value", "expected"), [(0, OK), (79.9, OK), (80, WARN), (89, WARN), (90, CRIT), (1e9, CRIT)])
def test_grade_higher_is_worse(value: float, expected: CheckStatus) -> None:
    assert grade(value, 80, 90) is expected


@pytest.mark.parametrize(("value", "expected"), [(50, OK), (30.1, OK), (30, WARN), (11, WARN), (10, CRIT), (-3, CRIT)])
def test_grade_low_lower_is_worse(value: float, expected: CheckStatus) -> None:
    assert grade_low(value, 30, 10) is expected


def test_grade_with_a_threshold_switched_off() -> None:
    assert grade(1e12, 80, math.inf) is WARN
    assert grade_low(-1e12, 30, -math.inf) is WARN


def test_worst() -> None:
    assert worst() is OK
    assert worst(OK, OK) is OK
    assert worst(OK, UNKNOWN) is UNKNOWN  # "could not ask" is never healthy
    assert worst(UNKNOWN, WARN, OK) is WARN
    assert worst(WARN, CRIT, UNKNOWN) is CRIT


def test_verdict_keeps_the_layer_only_when_failing() -> None:
    evidence = [Evidence(source="INFO", detail="used_memory=1")]
    failing = verdict(WARN, "high", evidence, "capacity", {"pct": 81.0})
    assert (failing.status, failing.summary, failing.layer) == (WARN, "high", "capacity")
    assert failing.metrics == {"pct": 81.0}
    assert failing.evidence == evidence and failing.evidence is not evidence
    healthy = verdict(OK, "fine", evidence, "capacity")
    assert healthy.layer == "" and healthy.metrics == {}
    assert verdict(UNKNOWN, "cannot ask", layer="network").layer == "network"


def test_helpers_are_public_api() -> None:
    for name in ("grade", "grade_low", "label_bool", "label_float", "label_int", "split_address", "verdict", "worst"):
        assert name in steadyops.__all__, name
