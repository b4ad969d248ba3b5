"""Silences: mute alerts by label matchers for a while, with Alertmanager's semantics.

Matchers are accepted both as objects (``{"name": "severity", "op": "=~", "value": "crit.*"}``) and
as the strings operators already type into amtool (``severity=~"crit.*"``), so a silence can be
pasted from a runbook. Deleting a silence expires it instead: the record of who muted what, and
when, is worth more than the row it costs. Every change wakes the pipeline, because the mute stage
must re-evaluate the affected alerts at their next flush, not a tick later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Principal, Responder, Viewer
from steadyops.config.durations import parse_duration
from steadyops.core.errors import Conflict, ValidationFailed
from steadyops.core.models import Matcher, Silence
from steadyops.store import silences as silences_repo

router = APIRouter(prefix="/api/v1/silences", tags=["silences"])

SilenceId = Annotated[str, Path(min_length=1, max_length=36)]

_MATCHERS_DOC = 'Objects `{"name", "op", "value"}` or strings such as `severity=~"crit.*"`; all must match.'


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


def _matchers(value: Any) -> Any:
    if isinstance(value, list):
        return [Matcher.parse(v) if isinstance(v, str) else v for v in value]
    return value


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC; the store refuses naive times outright."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Times(BaseModel):
    starts_at: datetime | None = Field(default=None, description="Defaults to now.")
    ends_at: datetime | None = Field(default=None, description="Give this or `duration`, not both.")
    duration: float | None = Field(default=None, description='Length such as `"2h"`, `"1h30m"` or seconds.',
                                   json_schema_extra={"examples": ["2h"]})

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return None if v is None else parse_duration(v)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _tz(cls, v: datetime | None) -> datetime | None:
        return _aware(v)

    @model_validator(mode="after")
    def _one_end(self) -> _Times:
        if self.ends_at is not None and self.duration is not None:
            raise ValueError("give either ends_at or duration, not both")
        return self


class SilenceCreate(_Times):
    """``created_by`` is the authenticated caller, never a field of the body."""

    matchers: list[Matcher] = Field(min_length=1, description=_MATCHERS_DOC)
    comment: str = Field(default="", max_length=10_000)

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return _matchers(v)

    @model_validator(mode="after")
    def _has_end(self) -> SilenceCreate:
        if self.ends_at is None and self.duration is None:
            raise ValueError("a silence needs ends_at or duration")
        return self


class SilenceUpdate(_Times):
    """Fields left out keep their current value. ``duration`` counts from the silence's start, or
    from now if it has already started, so "update --duration 2h" means "two more hours".
    The caller becomes the silence's author (``created_by``), as in Alertmanager."""

    matchers: list[Matcher] | None = Field(default=None, min_length=1, description=_MATCHERS_DOC)
    comment: str | None = Field(default=None, max_length=10_000)

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return _matchers(v)


class SilenceOut(BaseModel):
    id: str
    matchers: list[Matcher]
    matchers_text: list[str] = Field(description='The matchers as amtool prints them (`name=~"re"`).')
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime | None
    state: SilenceState

    @classmethod
    def of(cls, s: Silence, now: datetime) -> SilenceOut:
        return cls(id=s.id, matchers=s.matchers, matchers_text=[str(m) for m in s.matchers],
                   starts_at=s.starts_at, ends_at=s.ends_at, created_by=s.created_by, comment=s.comment,
                   created_at=s.created_at, state=state_of(s, now))


def state_of(s: Silence, now: datetime) -> SilenceState:
    """A silence expired before it began (``ends_at == starts_at``) counts as expired, not pending."""
    if now >= s.ends_at or s.ends_at <= s.starts_at:
        return SilenceState.EXPIRED
    return SilenceState.PENDING if now < s.starts_at else SilenceState.ACTIVE


def _end(starts: datetime, ends: datetime | None, duration: float | None, now: datetime) -> datetime | None:
    if ends is not None:
        return ends
    if duration is not None:
        return max(starts, now) + timedelta(seconds=duration)
    return None


def audit_silence(app: App, session: Session, me: Principal, kind: str, silence: Silence) -> None:
    """A silence mutes alerts, so who set it, with which credential, and what it matches goes into the
    tamper-evident audit log in the silence's own transaction (the API and the console both call this)."""
    app.audit.append_by(session, me, at=app.clock.now(), kind=kind, subject=f"silence {silence.id}", payload={
        "matchers": [str(m) for m in silence.matchers],
        "starts_at": silence.starts_at, "ends_at": silence.ends_at, "comment": silence.comment})


def _not_over(ends: datetime, now: datetime) -> None:
    if ends <= now:
        raise ValidationFailed(f"ends_at {ends.isoformat()} is not in the future; a silence that ended "
                               "already would mute nothing")


@router.post("", response_model=SilenceOut, status_code=201, summary="Create a silence")
def create_silence(body: SilenceCreate, me: Responder, app: Annotated[App, Depends(get_app)]) -> SilenceOut:
    now = app.clock.now()
    starts = body.starts_at or now
    ends = _end(starts, body.ends_at, body.duration, starts)
    assert ends is not None  # guaranteed by SilenceCreate._has_end
    _not_over(ends, now)
    silence = Silence(matchers=body.matchers, starts_at=starts, ends_at=ends, created_by=me.name,
                      comment=body.comment)
    with app.store.transaction() as session:
        created = silences_repo.create(session, silence, now)
        audit_silence(app, session, me, "silence_created", created)
    app.pipeline.wake()
    return SilenceOut.of(created, now)


@router.get("", response_model=list[SilenceOut], summary="List silences, newest first")
def list_silences(
    me: Viewer,
    app: Annotated[App, Depends(get_app)],
    active: Annotated[bool | None, Query(description="true: only those muting now; false: pending or "
                                                      "expired ones; absent: all.")] = None,
) -> list[SilenceOut]:
    now = app.clock.now()
    with app.store.transaction() as session:
        found = silences_repo.list_all(session, active_at=now if active else None)
    out = [SilenceOut.of(s, now) for s in found]
    if active is False:
        out = [s for s in out if s.state is not SilenceState.ACTIVE]
    return out


@router.get("/{silence_id}", response_model=SilenceOut, summary="One silence",
            responses={404: {"description": "No such silence"}})
def get_silence(silence_id: SilenceId, me: Viewer, app: Annotated[App, Depends(get_app)]) -> SilenceOut:
    with app.store.transaction() as session:
        return SilenceOut.of(silences_repo.get(session, silence_id), app.clock.now())


@router.put("/{silence_id}", response_model=SilenceOut, summary="Change a silence",
            responses={404: {"description": "No such silence"}, 409: {"description": "Silence has expired"}})
def update_silence(silence_id: SilenceId, body: SilenceUpdate, me: Responder,
                   app: Annotated[App, Depends(get_app)]) -> SilenceOut:
    """An expired silence cannot be revived (409): create a new one, so history stays truthful."""
    now = app.clock.now()
    with app.store.transaction() as session:
        current = silences_repo.get(session, silence_id)
        if state_of(current, now) is SilenceState.EXPIRED:
            raise Conflict(f"silence {silence_id} has expired; create a new one instead")
        starts = body.starts_at or current.starts_at
        ends = _end(starts, body.ends_at, body.duration, now) or current.ends_at
        _not_over(ends, now)
        changed = Silence(
            id=silence_id,
            matchers=body.matchers if body.matchers is not None else current.matchers,
            starts_at=starts,
            ends_at=ends,
            created_by=me.name,
            comment=body.comment if body.comment is not None else current.comment,
            created_at=current.created_at,
        )
        updated = silences_repo.update(session, silence_id, changed, now)
        audit_silence(app, session, me, "silence_updated", updated)
    app.pipeline.wake()
    return SilenceOut.of(updated, now)


@router.delete("/{silence_id}", response_model=SilenceOut, summary="Expire a silence (the record is kept)",
               responses={404: {"description": "No such silence"}})
def expire_silence(silence_id: SilenceId, me: Responder, app: Annotated[App, Depends(get_app)]) -> SilenceOut:
    now = app.clock.now()
    with app.store.transaction() as session:
        expired = silences_repo.expire(session, silence_id, now)
        audit_silence(app, session, me, "silence_expired", expired)
    app.pipeline.wake()
    return SilenceOut.of(expired, now)
