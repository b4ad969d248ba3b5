"""Intake: turn raw bodies into validated alerts, or a 4xx naming the problem. Nothing is stored here.

Validation is all-or-nothing per request: one bad alert rejects the whole body before any write,
so a sender never has to guess which half of a batch landed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from steadyops.config.settings import IntakeConfig
from steadyops.core.errors import PayloadTooLarge, ValidationFailed
from steadyops.core.models import Alert, AlertStatus

_ZERO_YEAR = 1
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook (v4); unknown keys are tolerated."""

    model_config = ConfigDict(extra="allow")

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body, version 4 (``notification_reason``, ``routeLabels`` … allowed)."""

    model_config = ConfigDict(extra="allow")

    version: str
    status: str = ""
    receiver: str = ""
    groupKey: str = ""
    truncatedAlerts: int = 0
    alerts: list[AlertmanagerAlert]

    @field_validator("version")
    @classmethod
    def _v4(cls, v: str) -> str:
        if v != "4":
            raise ValueError(f"unsupported webhook version {v!r}; steadyops speaks version 4")
        return v


class GenericAlert(BaseModel):
    """The documented generic schema (snake_case; camelCase aliases accepted)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    labels: dict[str, str] = Field(description="Identifying labels; at least one, e.g. alertname.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Summary, description, runbook …")
    status: AlertStatus = AlertStatus.FIRING
    starts_at: datetime | None = Field(default=None, alias="startsAt", description="Defaults to now.")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")


class GenericAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerts: list[GenericAlert] = Field(min_length=1)
    source: str = Field(default="api", max_length=32, pattern=r"^[A-Za-z0-9_.:-]+$")


def decode_body(raw: bytes, limits: IntakeConfig) -> Any:
    if len(raw) > limits.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {limits.max_body_bytes} bytes")
    if not raw.strip():
        raise ValidationFailed("body is empty; expected a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"body is not valid UTF-8 (byte {exc.start})") from exc
    check_depth(raw, limits.max_json_depth)
    try:
        return json.loads(text)
    except RecursionError:  # the depth check above makes this unreachable; kept as a 400, never a 500
        raise ValidationFailed(f"JSON nested too deeply (limit intake.max_json_depth={limits.max_json_depth})") \
            from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def check_depth(raw: bytes, limit: int) -> None:
    """Nesting of ``[``/``{`` outside strings, counted before parsing (the parser would recurse); stops at
    the first level over ``limit``, so a body of a million ``[`` costs ``limit`` steps."""
    depth = 0
    for b in _JSON_STRING.sub(b'""', raw).translate(None, _NOT_BRACKETS):
        depth += 1 if b in b"[{" else -1
        if depth > limit:
            raise ValidationFailed(f"JSON nested deeper than {limit} levels (intake.max_json_depth)")


def _utf8(where: str, kind: str, name: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in the JSON): not storable text
        raise ValidationFailed(f"{where}.{kind}: {name[:64]!r} holds invalid Unicode (a lone surrogate)") from None


def check_sizes(where: str, labels: dict[str, str], annotations: dict[str, str], limits: IntakeConfig) -> None:
    """Label/annotation counts and sizes, and no NUL byte anywhere: each a 400 naming the limit."""
    if len(labels) > limits.max_labels:
        raise ValidationFailed(f"{where}.labels: {len(labels)} labels; the limit is {limits.max_labels} "
                               "(intake.max_labels)")
    if len(annotations) > limits.max_annotations:
        raise ValidationFailed(f"{where}.annotations: {len(annotations)} annotations; the limit is "
                               f"{limits.max_annotations} (intake.max_annotations)")
    for kind, items, cap, setting in (("labels", labels, limits.max_label_bytes, "max_label_bytes"),
                                      ("annotations", annotations, limits.max_annotation_bytes,
                                       "max_annotation_bytes")):
        for name, value in items.items():
            if "\x00" in name or "\x00" in value:
                raise ValidationFailed(f"{where}.{kind}.{name[:64]!r} contains a NUL byte")
            for part in (name, value) if kind == "labels" else (value,):
                if len(_utf8(where, kind, name, part)) > cap:
                    raise ValidationFailed(f"{where}.{kind}.{name[:64]!r} is longer than {cap} bytes "
                                           f"(intake.{setting})")
            if kind == "annotations" and len(_utf8(where, kind, name, name)) > limits.max_label_bytes:
                raise ValidationFailed(f"{where}.annotations: a name is longer than {limits.max_label_bytes} bytes "
                                       "(intake.max_label_bytes)")


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 10
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _zero(t: datetime | None) -> bool:
    return t is None or t.year == _ZERO_YEAR


class _Checker:
    def __init__(self, limits: IntakeConfig, now: datetime) -> None:
        self.earliest = now - timedelta(seconds=limits.max_age)
        self.latest = now + timedelta(seconds=limits.max_future_skew)
        self.now = now

    def times(self, where: str, status: AlertStatus, starts: datetime | None,
              ends: datetime | None) -> tuple[datetime, datetime | None]:
        start = self.now if _zero(starts) else _utc(starts)  # type: ignore[arg-type]
        end = None if _zero(ends) else _utc(ends)  # type: ignore[arg-type]
        if not self.earliest <= start <= self.latest:
            raise ValidationFailed(
                f"{where}.startsAt {start.isoformat()} is outside the accepted range "
                f"[{self.earliest.isoformat()}, {self.latest.isoformat()}]"
            )
        if end is not None and end < start:
            raise ValidationFailed(f"{where}.endsAt is before startsAt")
        if end is not None and end > self.latest + (self.latest - self.earliest):
            raise ValidationFailed(f"{where}.endsAt {end.isoformat()} is absurdly far in the future")
        if status is AlertStatus.RESOLVED and end is None:
            end = max(self.now, start)
        return start, end


def _build(where: str, labels: dict[str, str], **kw: Any) -> Alert:
    try:
        return Alert(labels=labels, **kw)
    except ValidationError as exc:
        raise ValidationFailed(f"{where}: {_errors(exc)}") from exc


_Raw = tuple[dict[str, str], dict[str, str], AlertStatus, datetime | None, datetime | None, str]


def _convert(items: Sequence[_Raw], limits: IntakeConfig, now: datetime, source: str) -> list[Alert]:
    """Validated wire alerts → domain alerts; all-or-nothing, the first bad one names its index."""
    _check_count(len(items), limits)
    check = _Checker(limits, now)
    out = []
    for i, (labels, notes, status, starts, ends, url) in enumerate(items):
        where = f"alerts.{i}"
        check_sizes(where, labels, notes, limits)
        start, end = check.times(where, status, starts, ends)
        out.append(_build(where, labels, annotations=notes, status=status, starts_at=start, ends_at=end,
                          generator_url=url, source=source))
    return out


def parse_alertmanager(raw: bytes, limits: IntakeConfig, now: datetime) -> list[Alert]:
    data = decode_body(raw, limits)
    try:
        hook = AlertmanagerWebhook.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_errors(exc)) from exc
    items = [(a.labels, a.annotations, a.status, a.startsAt, a.endsAt, a.generatorURL) for a in hook.alerts]
    return _convert(items, limits, now, "alertmanager")


def parse_generic(raw: bytes, limits: IntakeConfig, now: datetime) -> list[Alert]:
    data = decode_body(raw, limits)
    if isinstance(data, list):
        data = {"alerts": data}
    try:
        body = GenericAlerts.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_errors(exc)) from exc
    items = [(a.labels, a.annotations, a.status, a.starts_at, a.ends_at, a.generator_url) for a in body.alerts]
    return _convert(items, limits, now, body.source)


def _check_count(n: int, limits: IntakeConfig) -> None:
    if n > limits.max_alerts_per_request:
        raise PayloadTooLarge(f"{n} alerts in one request; the limit is {limits.max_alerts_per_request}")
