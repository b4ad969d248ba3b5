"""The incident's name and its 1-5-10 spans, from the stored diagnosis and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from steadyops.pipeline.timings import root_finding, timings
from steadyops.store.tables import DiagnosisRow


def diag(evidence: list[dict[str, Any]], inconclusive: bool = False) -> DiagnosisRow:
    return DiagnosisRow(inconclusive=inconclusive, candidates=[{"target": "zk1"}], evidence=evidence)


def check(name: str, status: str, layer: str, target: str = "zk1", summary: str = "") -> dict[str, Any]:
    return {"kind": "check", "target": target, "detail": name, "status": status, "layer": layer, "summary": summary}


def test_root_is_the_most_severe_then_lowest_layer_finding_of_the_top_suspect() -> None:
    d = diag([check("zookeeper.port", "critical", "process"), check("zookeeper.disk", "critical", "disk"),
              check("zookeeper.ruok", "unknown", "process"), check("redis.ping", "critical", "host", target="x")])
    assert root_finding(d) == ("zookeeper.disk", "zk1")


def test_blocked_findings_and_inconclusive_diagnoses_name_nothing() -> None:
    blocked = check("zookeeper.mntr", "unknown", "process", summary="blocked by zookeeper.ruok: hung")
    assert root_finding(diag([blocked, check("zookeeper.ruok", "unknown", "process")])) == ("zookeeper.ruok", "zk1")
    assert root_finding(diag([check("zookeeper.port", "critical", "process")], inconclusive=True)) is None


def test_spans_against_one_five_ten() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    spans = timings(t0, t0 + timedelta(seconds=42), t0 + timedelta(seconds=400), None)
    assert spans["detect"] == {"seconds": 42.0, "goal": 60.0, "met": True}
    assert spans["locate"] == {"seconds": 400.0, "goal": 300.0, "met": False}
    assert spans["recover"] == {"seconds": None, "goal": 600.0, "met": None}
