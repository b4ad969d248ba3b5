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

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from steadyops.config.settings import IntakeConfig
from steadyops.core.errors import PayloadTooLarge, ValidationFailed
from steadyops.core.models import LABEL_NAME_RE, Alert, AlertStatus, fingerprint

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
    fast = _fast_alertmanager(raw, limits, now)
    if fast is not None:
        return fast
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


# -- the fast path ------------------------------------------------------------------------------------
# A storm is tens of thousands of well-formed alerts a second, and pydantic plus the stdlib JSON
# parser cost more per alert than everything else on the way to the journal. The fast path accepts
# only the exact shape a real Alertmanager sends (every field of its documented type, RFC 3339
# times) and builds the same Alerts the validated path would. Anything else, and every body that
# is going to be rejected, goes through the validated path above, so the 4xx answers and their
# messages are the validated path's, unchanged.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)\Z")
_STATUSES = {"firing": AlertStatus.FIRING, "resolved": AlertStatus.RESOLVED}
_HOOK_STR = ("status", "receiver", "groupKey")
_ALERT_KEYS = frozenset(("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"))
_HOOK_KEYS = frozenset(("version", "status", "receiver", "groupKey", "truncatedAlerts", "alerts"))


def _depth(value: Any, limit: int) -> bool:
    """True when ``value`` nests no deeper than ``limit`` (``[``/``{`` levels, as check_depth counts)."""
    if isinstance(value, dict):
        return limit > 0 and all(_depth(v, limit - 1) for v in value.values())
    if isinstance(value, list):
        return limit > 0 and all(_depth(v, limit - 1) for v in value)
    return True


def _str_map(value: Any) -> bool:
    return type(value) is dict and all(type(v) is str for v in value.values())


def _surely_fits(labels: dict[str, str], notes: dict[str, str], limits: IntakeConfig) -> bool:
    """True when ``check_sizes`` has nothing to find: few enough labels and annotations, and every name and
    value short enough in characters to be within its byte limit whatever characters it holds (UTF-8
    takes at most 4 bytes a character). Only for strings known to encode and to hold no NUL."""
    label_chars, note_chars = limits.max_label_bytes // 4, limits.max_annotation_bytes // 4
    return (len(labels) <= limits.max_labels and len(notes) <= limits.max_annotations
            and (not labels or (max(map(len, labels)) <= label_chars and max(map(len, labels.values())) <= label_chars))
            and (not notes or (max(map(len, notes)) <= label_chars and max(map(len, notes.values())) <= note_chars)))


def _time(value: Any, seen: dict[str, datetime | bool]) -> datetime | bool | None:
    """A parsed RFC 3339 time, None for JSON null, False for anything the fast path leaves to pydantic.
    ``seen`` remembers the strings already parsed in this request."""
    if value is None:
        return None
    if type(value) is not str:
        return False
    found = seen.get(value)
    if found is None:
        found = seen[value] = _parse_time(value)
    return found


def _parse_time(value: str) -> datetime | bool:
    if not _RFC3339.match(value):
        return False
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # 24:00, a 13th month …: pydantic words the 400
        return False


def _fast_alertmanager(raw: bytes, limits: IntakeConfig, now: datetime) -> list[Alert] | None:
    """The alerts of a well-formed webhook, or None: let the validated path decide (and word any 4xx)."""
    if len(raw) > limits.max_body_bytes:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or data.get("version") != "4" or type(data.get("alerts")) is not list:
        return None
    if any(type(data.get(k, "")) is not str for k in _HOOK_STR) or type(data.get("truncatedAlerts", 0)) is not int:
        return None
    # known keys hold strings or the alerts list; anything else sent along must respect the depth limit
    if not all(_depth(v, limits.max_json_depth - 1) for k, v in data.items() if k not in _HOOK_KEYS):
        return None
    items = data["alerts"]
    if len(items) > limits.max_alerts_per_request:
        return None
    check = _Checker(limits, now)
    out: list[Alert] = []
    # orjson refuses lone surrogates, so every string here encodes, in at most 4 bytes a character; a NUL
    # can only arrive escaped. Alerts whose strings are short enough for that bound skip the byte count.
    no_nul = b"\\u0000" not in raw
    times: dict[str, datetime | bool] = {}  # alerts of one webhook often share their times
    try:
        for i, a in enumerate(items):
            if type(a) is not dict:
                return None
            raw_status = a.get("status")
            status = _STATUSES.get(raw_status) if type(raw_status) is str else None
            labels, notes = a.get("labels"), a.get("annotations", {})
            url = a.get("generatorURL", "")
            if status is None or not labels or not _str_map(labels) or not _str_map(notes) or type(url) is not str \
                    or type(a.get("fingerprint", "")) is not str:
                return None
            if "startsAt" not in a:
                return None
            starts, ends = _time(a["startsAt"], times), _time(a.get("endsAt"), times)
            if starts is None or starts is False or ends is False:
                return None
            if not all(_depth(v, limits.max_json_depth - 3) for k, v in a.items() if k not in _ALERT_KEYS):
                return None
            if not all(type(k) is str and LABEL_NAME_RE.match(k) for k in labels):
                return None
            where = f"alerts.{i}"
            if not (no_nul and _surely_fits(labels, notes, limits)):
                check_sizes(where, labels, notes, limits)
            start, end = check.times(where, status, starts, ends)  # type: ignore[arg-type]
            # validated above exactly as Alert's validators would; fingerprint as Alert computes it
            out.append(Alert.model_construct(labels=labels, annotations=notes, status=status, starts_at=start,
                                             ends_at=end, generator_url=url, source="alertmanager",
                                             fingerprint=fingerprint(labels)))
    except ValidationFailed:
        return None  # the validated path raises the same error, worded the same way
    return out
