"""Ranking through healthy hops, proxies that report their upstream, ties broken by evidence (never by name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steadyops.pipeline import suspects

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def evidence(*rows: tuple[str, float, float, str, bool]) -> suspects.Evidence:
    """(target, score, onset seconds after T0, layer, critical)."""
    ev = suspects.Evidence()
    for target, score, after, layer, critical in rows:
        ev.score[target] = score
        ev.saw(target, T0 + timedelta(seconds=after), layer, critical)
    return ev


CHAIN = {"probe": ["nginx"], "nginx": ["app"], "app": []}


def test_a_slow_dependency_two_hops_away_ranks_first_through_a_healthy_proxy() -> None:
    ev = evidence(("probe", 3.0, 0, "capacity", True), ("app", 3.0, 0, "capacity", True))
    ranked = suspects.rank(ev, CHAIN)
    assert [c["target"] for c in ranked][:1] == ["app"]
    inconclusive, _ = suspects.judge(ranked)
    assert not inconclusive


def test_ties_are_broken_by_onset_not_by_name() -> None:
    # "zeta" failed 30 s before "alpha": it leads although its name sorts last
    ev = evidence(("alpha", 1.5, 30, "load", False), ("zeta", 1.5, 0, "load", False))
    ranked = suspects.rank(ev, {"alpha": [], "zeta": []})
    assert ranked[0]["target"] == "zeta"
    assert suspects.judge(ranked)[0] is False


def test_same_onset_same_severity_is_inconclusive() -> None:
    ev = evidence(("alpha", 1.5, 0, "load", False), ("zeta", 1.5, 2, "load", False))  # within ONSET_GAP
    ranked = suspects.rank(ev, {"alpha": [], "zeta": []})
    assert suspects.judge(ranked)[0] is True


def test_critical_evidence_breaks_a_score_tie() -> None:
    ev = evidence(("alpha", 2.9, 0, "load", False), ("zeta", 2.6, 0, "process", True))
    ranked = suspects.rank(ev, {"alpha": [], "zeta": []})
    assert ranked[0]["target"] == "zeta" and suspects.judge(ranked)[0] is False


def test_a_proxy_answering_502_hands_its_evidence_to_its_known_upstream() -> None:
    ev = evidence(("web", 3.0, 0, "upstream", True), ("app", 3.0, 0, "process", True))
    ranked = suspects.rank(ev, {"web": ["app"], "app": []})
    assert ranked[0]["target"] == "app" and "via" not in ranked[0]


def test_a_proxy_answering_502_with_no_watched_upstream_is_marked_via_upstream() -> None:
    ev = evidence(("web", 3.0, 0, "upstream", True))
    ranked = suspects.rank(ev, {"web": []})
    assert ranked[0]["target"] == "web" and ranked[0]["via"] == "upstream"
    ev = evidence(("web", 3.0, 0, "upstream", True))  # upstream listed but healthy: still not nginx's fault
    assert suspects.rank(ev, {"web": ["app"], "app": []})[0]["via"] == "upstream"


def test_a_proxy_failing_itself_is_not_only_a_messenger() -> None:
    ev = evidence(("web", 3.0, 0, "upstream", True))
    ev.saw("web", T0, "process", True)
    assert "via" not in suspects.rank(ev, {"web": []})[0]


def test_candidates_are_plain_json_even_without_an_onset() -> None:
    import json

    ev = evidence(("alpha", 1.5, 0, "load", False))
    ev.score["beta"] = 1.5  # e.g. metric evidence only: no failing observation, no onset
    ranked = suspects.rank(ev, {"alpha": [], "beta": []})
    json.dumps(ranked, allow_nan=False)
    assert ranked[0]["target"] == "alpha" and suspects.judge(ranked)[0] is True  # an unknown onset decides nothing
