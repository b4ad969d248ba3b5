"""Settings for the operating rhythm: SLOs, changes, on-call and periodic reports.

Kept apart from ``config.py`` (which only names these sections) so the four features can grow
their settings without every engineer's rebase touching the same lines.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

from steadyops.durations import Duration


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
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v
