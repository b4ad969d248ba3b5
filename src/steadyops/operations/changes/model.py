"""The change event: what changed, where, who, when, the ticket, and how to roll it back.

Every intake shape (generic JSON, GitLab, Jenkins, Argo CD) becomes a :class:`ChangeIn`; the
store keeps one row per ``(source, external_id)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    ROLLBACK = "rollback"
    INFRA = "infra"
    OTHER = "other"


class ChangeStatus(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (ChangeStatus.SUCCEEDED, ChangeStatus.FAILED, ChangeStatus.ROLLED_BACK,
                        ChangeStatus.CANCELLED)


def _aware(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


class ChangeIn(BaseModel):
    """The generic JSON shape (also what every webhook parser produces)."""

    id: str = Field(default="", max_length=300, description="the sender's id; replays with the same id update "
                                                            "one change")
    title: str = Field(min_length=1, max_length=2000, description="what changed")
    kind: ChangeKind = ChangeKind.DEPLOY
    description: str = Field(default="", max_length=20_000)
    service: str = Field(default="", max_length=200)
    targets: list[str] = Field(default_factory=list, max_length=500, description="inventory targets (names or "
                                                                                 "addresses) it touches")
    environment: str = Field(default="", max_length=200)
    author: str = Field(default="", max_length=200, description="who")
    status: ChangeStatus = ChangeStatus.SUCCEEDED
    started_at: datetime | None = Field(default=None, description="when it began (default: now)")
    finished_at: datetime | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    ticket: str = Field(default="", max_length=2000, description="ticket link or id")
    rollback_plan: str = Field(default="", max_length=20_000)
    url: str = Field(default="", max_length=2000, description="pipeline / build / sync link")
    revision: str = Field(default="", max_length=200)
    approved_by: str = Field(default="", max_length=200)

    @field_validator("started_at", "finished_at", "planned_start", "planned_end")
    @classmethod
    def _tz(cls, v: datetime | None) -> datetime | None:
        return _aware(v)

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        out = []
        for t in v:
            t = t.strip()
            if not t or len(t) > 256:
                raise ValueError("a target is a non-empty name of at most 256 characters")
            if t not in out:
                out.append(t)
        return out

    @model_validator(mode="after")
    def _order(self) -> ChangeIn:
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValueError("planned_end must follow planned_start")
        if not self.targets and not self.service:
            raise ValueError("a change needs targets or a service: where did it happen?")
        return self


class ChangeOut(ChangeIn):
    """A stored change (``id`` is steadyops' own; ``external_id`` the sender's)."""

    source: str
    external_id: str
    received_at: datetime
    updated_at: datetime
    silences: list[str] = Field(default_factory=list, description="maintenance silences made for it")

    @property
    def when(self) -> datetime:
        """The moment that matters for "what changed before the incident": its start."""
        return self.started_at or self.planned_start or self.received_at


def compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}
