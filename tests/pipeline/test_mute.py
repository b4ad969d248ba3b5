"""Silences and inhibition with Alertmanager's semantics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from steadyops.core.clock import FakeClock
from steadyops.core.models import InhibitRule, Matcher, Silence
from steadyops.pipeline.mute import Muter
from steadyops.store import silences as silences_repo
from tests.harness.timeline import alert, push, run_until

M = Matcher.parse


def test_matcher_parsing_and_semantics() -> None:
    assert M('severity=~"crit.*"').matches({"severity": "critical"})
    assert not M('severity=~"crit"').matches({"severity": "critical"})  # anchored
    assert M('env!="prod"').matches({})  # a missing label is the empty string
    assert M("env=").matches({})
    assert M('team!~"db|web"').matches({"team": "api"})


def test_inhibition_requires_equal_labels() -> None:
    rule = InhibitRule(source_matchers=[M("severity=critical")], target_matchers=[M("severity=warning")],
                       equal=["cluster"])
    firing = [("src1", {"alertname": "NodeDown", "severity": "critical", "cluster": "a"})]
    muter = Muter([], [rule], firing, FakeClock().now())
    assert muter.muted_by("t1", {"alertname": "Slow", "severity": "warning", "cluster": "a"}) == ["inhibited:src1"]
    assert muter.muted_by("t2", {"alertname": "Slow", "severity": "warning", "cluster": "b"}) == []
    # equal on a label both lack counts as equal, as in Alertmanager
    rule2 = InhibitRule(source_matchers=[M("severity=critical")], target_matchers=[M("severity=warning")],
                        equal=["zone"])
    muter2 = Muter([], [rule2], firing, FakeClock().now())
    assert muter2.muted_by("t3", {"severity": "warning"}) == ["inhibited:src1"]


def test_two_sided_match_does_not_inhibit_itself_or_peers() -> None:
    rule = InhibitRule(source_matchers=[M('alertname=~"A|B"')], target_matchers=[M('alertname=~"A|B"')],
                       equal=["cluster"])
    firing = [("a", {"alertname": "A", "cluster": "x"}), ("b", {"alertname": "B", "cluster": "x"})]
    muter = Muter([], [rule], firing, FakeClock().now())
    assert muter.muted_by("a", {"alertname": "A", "cluster": "x"}) == []
    assert muter.muted_by("b", {"alertname": "B", "cluster": "x"}) == []


def test_silence_time_range() -> None:
    clock = FakeClock()
    s = Silence(id="s1", matchers=[M("alertname=Down")], starts_at=clock.now() + timedelta(seconds=10),
                ends_at=clock.now() + timedelta(seconds=20), created_by="me")
    assert Muter([s], [], [], clock.now()).muted_by("x", {"alertname": "Down"}) == []
    clock.advance(15)
    assert Muter([s], [], [], clock.now()).muted_by("x", {"alertname": "Down"}) == ["silence:s1"]
    clock.advance(10)
    assert Muter([s], [], [], clock.now()).muted_by("x", {"alertname": "Down"}) == []


async def test_silenced_alert_is_kept_but_not_notified_until_silence_ends(make_app: Any,
                                                                           fake_clock: FakeClock) -> None:
    app = make_app(route={"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
    with app.store.transaction() as s:
        silences_repo.create(s, Silence(matchers=[M("instance=a")], starts_at=fake_clock.now(),
                                        ends_at=fake_clock.now() + timedelta(seconds=5), created_by="oncall"),
                             fake_clock.now())
    push(app, fake_clock, alert(fake_clock, instance="a"))
    notes = await run_until(app, fake_clock, 4.0)
    assert notes == []
    with app.store.transaction() as s:
        from steadyops.store import incidents
        assert incidents.list_rows(s) == []
    notes = await run_until(app, fake_clock, 9.0)  # the silence ended at 5 s: next flush tells
    assert len(notes) == 1 and 5.0 <= notes[0][0] <= 7.1
    with app.store.transaction() as s:
        from steadyops.store import incidents
        assert len(incidents.list_rows(s)) == 1


async def test_inhibited_alert_not_notified(make_app: Any, fake_clock: FakeClock) -> None:
    app = make_app(
        route={"group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"},
        inhibit_rules=[{"source_matchers": ["severity=critical"], "target_matchers": ["severity=warning"],
                        "equal": ["cluster"]}],
    )
    push(app, fake_clock, alert(fake_clock, "NodeDown", severity="critical", cluster="c1"),
         alert(fake_clock, "HighLatency", severity="warning", cluster="c1"),
         alert(fake_clock, "HighLatency", severity="warning", cluster="c2"))
    notes = await run_until(app, fake_clock, 2.0)
    names = sorted((p["alerts"][0]["labels"]["alertname"], len(p["alerts"])) for _, p in notes)
    assert names == [("HighLatency", 1), ("NodeDown", 1)]
    latency = next(p for _, p in notes if p["alerts"][0]["labels"]["alertname"] == "HighLatency")
    assert latency["alerts"][0]["labels"]["cluster"] == "c2"
