"""Schedules: rotations, hand-offs in local time across DST, restricted layers, overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from steadyops.config.operations import OnCallSettings, Schedule
from steadyops.operations.oncall.schedule import on_call, timeline


def _weekly(zone: str = "Asia/Shanghai") -> Schedule:
    return Schedule.model_validate({
        "name": "primary", "timezone": zone,
        "layers": [{"name": "weekly", "users": ["alice", "bob", "carol"], "start": "2026-01-05T09:00:00",
                    "length": "1w"}]})


def test_weekly_rotation_hands_off_monday_0900_local() -> None:
    s = _weekly()
    monday_0859 = datetime(2026, 1, 12, 0, 59, tzinfo=UTC)  # 08:59 in Shanghai
    assert on_call(s, monday_0859).user == "alice"  # type: ignore[union-attr]
    shift = on_call(s, monday_0859 + timedelta(minutes=1))
    assert shift is not None and shift.user == "bob"
    assert shift.start == datetime(2026, 1, 12, 1, 0, tzinfo=UTC) and shift.end == datetime(2026, 1, 19, 1, 0,
                                                                                            tzinfo=UTC)
    assert on_call(s, datetime(2026, 1, 20, tzinfo=UTC)).user == "carol"  # type: ignore[union-attr]
    assert on_call(s, datetime(2026, 1, 27, tzinfo=UTC)).user == "alice"  # type: ignore[union-attr]
    assert on_call(s, datetime(2026, 1, 1, tzinfo=UTC)) is None  # before the rotation begins


def test_handoff_stays_at_local_time_across_dst() -> None:
    s = _weekly("America/New_York")  # DST starts Sunday 2026-03-08
    before = on_call(s, datetime(2026, 3, 5, 12, tzinfo=UTC))
    after = on_call(s, datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert before is not None and after is not None
    assert before.start == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert after.start == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 09:00 EDT: 167 real hours later
    assert before.end == after.start


def test_follow_the_sun_layer_and_override() -> None:
    s = Schedule.model_validate({
        "name": "sre", "timezone": "UTC",
        "layers": [{"users": ["eu"], "start": "2026-01-01T00:00:00", "length": "1d"},
                   {"name": "apac-day", "users": ["cn"], "start": "2026-01-01T00:00:00", "length": "1d",
                    "active_from": "01:00", "active_to": "09:00"}],
        "overrides": [{"user": "dave", "starts_at": "2026-01-03T10:00:00Z", "ends_at": "2026-01-03T12:00:00Z"}]})
    day = datetime(2026, 1, 3, tzinfo=UTC)
    assert [on_call(s, day + timedelta(hours=h)).user for h in (0, 2, 8, 9, 10, 11, 12)] == [  # type: ignore[union-attr]
        "eu", "cn", "cn", "eu", "dave", "dave", "eu"]
    at_two = on_call(s, day + timedelta(hours=2))
    assert at_two is not None and at_two.layer == "apac-day" and at_two.end == day + timedelta(hours=9)
    nine = on_call(s, day + timedelta(hours=9, minutes=30))
    assert nine is not None and nine.end == day + timedelta(hours=10)  # the override starts: that is the hand-off
    users = [x.user for x in timeline(s, day, day + timedelta(days=1))]
    assert users == ["eu", "cn", "eu", "dave", "eu"]


def test_references_are_checked() -> None:
    with pytest.raises(ValidationError, match="no schedule 'nope'"):
        OnCallSettings.model_validate({"policies": [{"name": "p", "levels": [{"schedules": ["nope"]}]}]})
    with pytest.raises(ValidationError, match=r"not in oncall\.users"):
        OnCallSettings.model_validate({"users": [{"name": "a"}], "schedules": [
            {"name": "s", "layers": [{"users": ["zed"], "start": "2026-01-01T00:00:00"}]}]})
    with pytest.raises(ValidationError, match="must notify"):
        OnCallSettings.model_validate({"policies": [{"name": "p", "levels": [{}]}]})


def test_unknown_receivers_fail_at_start(make_app: Any) -> None:
    from steadyops.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"oncall\.users\.0\.receiver: receiver 'pager' is not defined"):
        make_app(oncall={"users": [{"name": "a", "receiver": "pager"}]})
    with pytest.raises(ConfigError, match=r"reports\.schedules\.0\.receiver"):
        make_app(reports={"schedules": [{"period": "daily", "receiver": "ops"}]})
