"""Settings for the operating rhythm: SLOs, changes, on-call and periodic reports.

Kept apart from ``settings.py`` (which only names these sections) so the four features can grow
their settings without every engineer's rebase touching the same lines.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from steadyops.config.durations import Duration
from steadyops.core.models import Matcher


def _parse_matchers(value: object) -> object:
    if isinstance(value, list):
        return [Matcher.parse(v) if isinstance(v, str) else v for v in value]
    return value


Matchers = Annotated[list[Matcher], BeforeValidator(_parse_matchers)]


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


class SLOSettings(BaseModel):
    specs: list[Path] = Field(default_factory=list, description="Sloth-format spec files or directories")
    rules_file: Path | None = Field(default=None, description="where `steadyops slo rules` writes by default")
    promtool: str = Field(default="promtool", description="promtool binary used to check rules before writing")


class FreezeWindow(BaseModel):
    """A change freeze: one-off (``starts_at``/``ends_at``) or weekly (``weekdays`` + ``start``/``end``)."""

    name: str = Field(min_length=1, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[int] = Field(default_factory=list, description="0 = Monday … 6 = Sunday")
    start: time | None = Field(default=None, description="local time of day, with weekdays")
    end: time | None = None

    @model_validator(mode="after")
    def _shape(self) -> FreezeWindow:
        one_off = self.starts_at is not None or self.ends_at is not None
        weekly = bool(self.weekdays) or self.start is not None or self.end is not None
        if one_off == weekly:
            raise ValueError(f"freeze {self.name!r}: give starts_at/ends_at, or weekdays with start/end")
        if one_off and (self.starts_at is None or self.ends_at is None or self.ends_at <= self.starts_at):
            raise ValueError(f"freeze {self.name!r}: ends_at must follow starts_at")
        if weekly and (self.start is None or self.end is None or not self.weekdays
                       or any(d not in range(7) for d in self.weekdays)):
            raise ValueError(f"freeze {self.name!r}: weekly freezes need weekdays (0-6), start and end")
        return self


class ChangesSettings(BaseModel):
    lookback: Duration = Field(default=7200.0, description="changes this long before an incident are evidence")
    max_hops: int = Field(default=2, ge=0, le=10, description="topology distance that links a change to a target")
    timezone: str = Field(default="UTC", description="IANA zone for business hours and weekly freezes")
    business_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    business_start: time = time(9, 0)
    business_end: time = time(18, 0)
    freeze: list[FreezeWindow] = Field(default_factory=list)
    required_fields: list[str] = Field(default_factory=lambda: ["ticket", "rollback_plan", "description",
                                                                "planned_window", "author"])
    maintenance_silences: bool = Field(default=True, description="silence an approved change's targets while "
                                                                 "it runs")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return check_zone(v)


class Layer(BaseModel):
    """One rotation: ``users`` take turns, each for ``length``, handing off at ``start`` + k × length
    (wall-clock time in the schedule's zone, so a 09:00 hand-off stays at 09:00 across DST).
    ``active_from``/``active_to`` restrict it to part of each day (follow-the-sun)."""

    name: str = Field(default="", max_length=200)
    users: list[str] = Field(min_length=1)
    start: datetime = Field(description="first hand-off; a time without a zone is in the schedule's zone")
    length: Duration = Field(default=7 * 86400.0, description="e.g. 1d, 1w, 12h")
    active_from: time | None = None
    active_to: time | None = None

    @field_validator("length")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v < 60:
            raise ValueError("a rotation turn lasts at least a minute")
        return v


class Override(BaseModel):
    user: str = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime

    @model_validator(mode="after")
    def _order(self) -> Override:
        if self.ends_at <= self.starts_at:
            raise ValueError(f"override for {self.user!r}: ends_at must follow starts_at")
        return self


class Schedule(BaseModel):
    """Later layers win where they are active (as in PagerDuty); overrides win over every layer."""

    name: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"
    layers: list[Layer] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return check_zone(v)


class EscalationLevel(BaseModel):
    """Whom to notify at this level, and how long to wait for an acknowledgement before the next."""

    schedules: list[str] = Field(default_factory=list, description="notify whoever is on call in these")
    users: list[str] = Field(default_factory=list)
    receivers: list[str] = Field(default_factory=list, description="receivers (from `receivers`) to notify too")
    escalate_after: Duration = Field(default=900.0, description="no ack within this → next level")

    @model_validator(mode="after")
    def _someone(self) -> EscalationLevel:
        if not (self.schedules or self.users or self.receivers):
            raise ValueError("an escalation level must notify a schedule, a user or a receiver")
        return self


class EscalationPolicy(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    matchers: Matchers = Field(default_factory=list, description="incident labels it applies to (all must match)")
    levels: list[EscalationLevel] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10, description="go through the levels again this many times")


class OnCallUser(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    receiver: str | None = Field(default=None, description="the receiver that reaches this person")
    timezone: str | None = None


class OnCallSettings(BaseModel):
    users: list[OnCallUser] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    policies: list[EscalationPolicy] = Field(default_factory=list)
    ack_link_ttl: Duration = Field(default=86400.0, description="how long a signed ack link stays valid")

    @model_validator(mode="after")
    def _refs(self) -> OnCallSettings:
        users = {u.name for u in self.users}
        schedules = {s.name for s in self.schedules}
        for s in self.schedules:
            for who in [u for layer in s.layers for u in layer.users] + [o.user for o in s.overrides]:
                if users and who not in users:
                    raise ValueError(f"schedule {s.name!r}: user {who!r} is not in oncall.users")
        for p in self.policies:
            for i, level in enumerate(p.levels):
                for name in level.schedules:
                    if name not in schedules:
                        raise ValueError(f"policy {p.name!r} level {i + 1}: no schedule {name!r}")
                for who in level.users:
                    if users and who not in users:
                        raise ValueError(f"policy {p.name!r} level {i + 1}: user {who!r} is not in oncall.users")
        return self


class ReportSchedule(BaseModel):
    """Send the short form of a period report to a receiver once each period has ended."""

    period: Literal["daily", "weekly", "monthly"]
    receiver: str = Field(min_length=1)
    at: time = Field(default=time(9, 0), description="local time of day after the period ends")
    lang: Literal["zh", "en"] | None = None


class ReportsSettings(BaseModel):
    timezone: str = Field(default="UTC", description="IANA zone: where days, weeks and months begin")
    schedules: list[ReportSchedule] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return check_zone(v)
