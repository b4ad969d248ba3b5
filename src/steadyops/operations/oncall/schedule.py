"""Who is on call: rotations with hand-offs in local wall-clock time, restricted layers, overrides.

Arithmetic happens on the schedule's local wall clock and is converted to UTC at the end, so a
rotation that hands off "Monday 09:00 Asia/Shanghai" or "09:00 America/New_York" does so at 09:00
local on both sides of a daylight-saving change (a 1-week turn is then 167 or 169 real hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from steadyops.config.operations import Layer, Schedule


@dataclass(frozen=True)
class Shift:
    schedule: str
    user: str
    layer: str  # layer name, or "override"
    start: datetime  # UTC
    end: datetime  # UTC: the next hand-off


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def _utc(naive_local: datetime, zone: ZoneInfo) -> datetime:
    return naive_local.replace(tzinfo=zone).astimezone(UTC)


def _layer_start(layer: Layer, zone: ZoneInfo) -> datetime:
    return layer.start.replace(tzinfo=None) if layer.start.tzinfo is None else _local(layer.start, zone)


def layer_shift(schedule: Schedule, index: int, at: datetime) -> Shift | None:
    layer = schedule.layers[index]
    zone = ZoneInfo(schedule.timezone)
    start = _layer_start(layer, zone)
    now = _local(at, zone)
    if now < start:
        return None
    length = timedelta(seconds=layer.length)
    turn = int((now - start) / length)
    shift_start = start + turn * length
    shift_end = shift_start + length
    if layer.active_from is not None and layer.active_to is not None:
        day = now.date()
        lo = datetime.combine(day, layer.active_from)
        hi = datetime.combine(day, layer.active_to)
        if hi <= lo:  # the window crosses midnight
            if now.time() < layer.active_to:
                lo -= timedelta(days=1)
            else:
                hi += timedelta(days=1)
        if not lo <= now < hi:
            return None
        shift_start, shift_end = max(shift_start, lo), min(shift_end, hi)
    user = layer.users[turn % len(layer.users)]
    return Shift(schedule.name, user, layer.name or f"layer {index + 1}", _utc(shift_start, zone),
                 _utc(shift_end, zone))


def _covering(schedule: Schedule, at: datetime) -> Shift | None:
    for o in schedule.overrides:
        if o.starts_at <= at < o.ends_at:
            return Shift(schedule.name, o.user, "override", o.starts_at.astimezone(UTC), o.ends_at.astimezone(UTC))
    for index in reversed(range(len(schedule.layers))):
        shift = layer_shift(schedule, index, at)
        if shift is not None:
            return shift
    return None


def _boundaries(schedule: Schedule, at: datetime, horizon: datetime) -> list[datetime]:
    """Every moment after ``at`` where some layer or override could hand over."""
    zone = ZoneInfo(schedule.timezone)
    now = _local(at, zone)
    out: set[datetime] = set()
    for o in schedule.overrides:
        out.update(x.astimezone(UTC) for x in (o.starts_at, o.ends_at))
    for layer in schedule.layers:
        start = _layer_start(layer, zone)
        length = timedelta(seconds=layer.length)
        turn = max(0, int((now - start) / length) + 1) if now >= start else 0
        out.add(_utc(start + turn * length, zone))
        for edge in (layer.active_from, layer.active_to):
            if edge is not None:
                for day in range(0, 3):
                    out.add(_utc(datetime.combine(now.date() + timedelta(days=day), edge), zone))
    return sorted(b for b in out if at < b <= horizon)


def on_call(schedule: Schedule, at: datetime) -> Shift | None:
    """The shift covering ``at`` (an override, else the last active layer), ending at the next
    hand-off, whichever layer or override causes it; None when nobody is on call."""
    shift = _covering(schedule, at)
    if shift is None:
        return None
    for boundary in _boundaries(schedule, at, shift.end):
        nxt = _covering(schedule, boundary)
        if nxt is None or (nxt.user, nxt.layer) != (shift.user, shift.layer):
            return Shift(shift.schedule, shift.user, shift.layer, shift.start, min(boundary, shift.end))
    return shift


def timeline(schedule: Schedule, start: datetime, end: datetime, limit: int = 200) -> list[Shift]:
    """Consecutive shifts from ``start`` to ``end`` (gaps, when nobody is on call, are skipped)."""
    out: list[Shift] = []
    at = start
    while at < end and len(out) < limit:
        shift = on_call(schedule, at)
        if shift is None:
            at += timedelta(minutes=15)
            continue
        out.append(shift)
        at = max(shift.end, at + timedelta(seconds=1))
    return out
