"""Streaming log anomaly signals over the template miner: new templates, rate spikes, error weight.

Why these three: an incident usually shows up in logs as a message nobody saw before (a new code
path: an exception, a fallback, a retry loop), or as a known message suddenly repeated far more
often than usual (timeouts, reconnects, GC warnings). Messages that name an error matter more than
chatter, so error-keyword templates are weighted up. All three are computed *online*, each line
seen once, in order, with no look-ahead, so the score a window had at the time is the score it
keeps, and one configuration (the :class:`AnomalyConfig` defaults) serves every log source.

* **New template** — a template first created by the miner after the warm-up (enough lines and
  enough log time to have met the usual messages), scored ``new_template_score``.
* **Rate spike** — per template, lines are counted per time bucket (time from the line's own
  timestamp when it has a common one, else the previous line's, else arrival time). Closed buckets
  feed an exponentially weighted mean and variance (empty buckets count as zero), the open bucket is
  compared with that baseline: a z-score with a Poisson floor (counts are noisy even where the past
  was flat) gates the score, and the rate ratio scales it, so a 2x rise of a very regular message
  is mild and a 50x burst is 1.0.
* **Error weight** — the score of a template whose constant text names an error (ERROR, FATAL,
  ``…Exception``, panic, 失败, 异常, 错误 …) is multiplied by ``error_weight`` (capped at 1).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from steadyops.detect.logs.miner import TemplateMiner

__all__ = ["AnomalyConfig", "LogAnomalyDetector", "Signal", "TemplateStat", "is_error", "parse_timestamp"]

_FORMAT = "steadyops.loganomaly/1"

# ------------------------------------------------------------------------------ timestamps
_MONTH_NAMES: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS: Final = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
# ISO 8601 and its log variants: 2026-01-02T03:04:05.678Z, 2026-01-02 03:04:05,678 (log4j, Python),
# 2026/01/02 03:04:05 (nginx error log); an optional '[' before it
_ISO: Final = re.compile(
    r"\[?(\d{4})[-/](\d{2})[-/](\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(?:\s?(Z|[+-]\d{2}:?\d{2})(?![\d:]))?\]?\s*"
)
# syslog (RFC 3164) "Jan  2 03:04:05": no year, taken from the reference time
_SYSLOG: Final = re.compile(r"\[?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})"
                            r"(?:\.(\d{1,9}))?\]?\s*")
# seconds or milliseconds since the epoch, 2001..2100 only (a bare counter is not a time)
_EPOCH: Final = re.compile(r"\[?(\d{10}(?:\.\d{1,9})?|\d{13})(?![\d.])\]?\s*")
# Apache / nginx access log "[02/Jan/2026:03:04:05 +0000]", after the client address
_CLF: Final = re.compile(r"\[(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")


def _tz(text: str | None) -> timezone | None:
    if not text:
        return None  # naive: local time, which is what a logger on this machine wrote
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    return timezone((-1 if text[0] == "-" else 1) * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _epoch(year: int, month: int, day: int, hh: str, mm: str, ss: str, frac: str | None,
           tz: timezone | None) -> float | None:
    try:
        dt = datetime(year, month, day, int(hh), int(mm), int(ss), tzinfo=tz)
    except ValueError:
        return None
    return dt.timestamp() + (float("0." + frac) if frac else 0.0)


def parse_timestamp(line: str, reference: float | None = None) -> tuple[float | None, str]:
    """The time a line's common prefix states (epoch seconds) and the line without that prefix.

    ``reference`` (default: now) supplies the year syslog leaves out; a syslog time more than a day
    after it belongs to the previous year. Returns ``(None, line)`` when no known format matches.
    """
    head = line[:1]
    if head.isdigit() or head == "[":
        m = _ISO.match(line)
        if m:
            ts = _epoch(int(m[1]), int(m[2]), int(m[3]), m[4], m[5], m[6], m[7], _tz(m[8]))
            if ts is not None:
                return ts, line[m.end():]
        m = _EPOCH.match(line)
        if m:
            value = float(m[1]) / (1000.0 if len(m[1]) == 13 else 1.0)
            if 978_307_200 <= value < 4_102_444_800:
                return value, line[m.end():]
    if head in "JFMASOND[":
        m = _SYSLOG.match(line)
        if m:
            ref = reference if reference is not None else time.time()
            year = datetime.fromtimestamp(ref).year
            for y in (year, year - 1):  # more than a day ahead of the reference: last year's
                ts = _epoch(y, _MONTHS[m[1]], int(m[2]), m[3], m[4], m[5], m[6], None)
                if ts is not None and ts <= ref + 86_400:
                    return ts, line[m.end():]
    if "/" in line[:200]:
        m = _CLF.search(line, 0, 200)
        if m and m[2] in _MONTHS:
            ts = _epoch(int(m[3]), _MONTHS[m[2]], int(m[1]), m[4], m[5], m[6], None, _tz(m[7]))
            if ts is not None:
                return ts, line[:m.start()] + "<*>" + line[m.end():]
    return None, line


_ERROR: Final = re.compile(
    r"(?i:\b(?:error|errors|fatal|panic|panicked|critical|severe|failed|failure)\b)"
    r"|[A-Za-z]*(?:Exception|Error)\b|Traceback|失败|异常|错误|故障|崩溃"
)


def is_error(template: str) -> bool:
    """Whether a template's text names an error (its constant words; values are already ``<*>``)."""
    return _ERROR.search(template) is not None


# ------------------------------------------------------------------------------ the detector
@dataclass(frozen=True)
class AnomalyConfig:
    """One configuration for every log source; the defaults are that configuration."""

    bucket_seconds: float = 60.0
    """Width of a counting bucket: a minute resolves bursts without making every count tiny."""
    baseline_buckets: int = 30
    """Span of the exponentially weighted baseline (alpha = 2 / (span + 1))."""
    warmup_seconds: float = 600.0
    """Log time a stream must cover before new templates and spikes are reported."""
    warmup_lines: int = 100
    """Lines a stream must have shown before new templates and spikes are reported."""
    z_gate: float = 3.0
    """Deviations above the baseline below which a bucket is not a spike at all."""
    full_ratio: float = 8.0
    """Rate ratio (this bucket / baseline) that gets the full magnitude factor."""
    new_template_score: float = 0.6
    error_weight: float = 1.5
    retain_buckets: int = 1440
    """Non-empty buckets kept per template for window queries (a day of minutes)."""


@dataclass(frozen=True)
class Signal:
    """What one line contributed: its template and the anomaly signals it raised, score in [0, 1]."""

    template_id: int
    template: str
    timestamp: float
    new: bool
    spike: float
    error: bool
    score: float
    bucket_count: int
    expected: float | None


@dataclass(frozen=True)
class TemplateStat:
    """One template over a time window: how often, whether new in it, and its worst spike."""

    template_id: int
    template: str
    count: int
    first_seen: float
    new: bool
    spike: float
    peak_count: int
    expected: float
    error: bool
    score: float
    bucket_seconds: float

    @property
    def ratio(self) -> float:
        return (self.peak_count + 1.0) / (self.expected + 1.0)

    def describe(self) -> str:
        """One line for people: why this template is interesting."""
        parts = []
        if self.new:
            first = datetime.fromtimestamp(self.first_seen, UTC).strftime("%H:%M:%S")
            parts.append(f"new template (first seen {first} UTC, {self.count} lines)")
        if self.spike > 0:
            parts.append(f"rate x{self.ratio:.0f} ({self.peak_count} lines in {self.bucket_seconds:.0f}s, "
                         f"usually ~{self.expected:.1f})")
        return ("error " if self.error else "") + ("; ".join(parts) or f"{self.count} lines")

    def to_dict(self) -> dict[str, Any]:
        return {"template_id": self.template_id, "template": self.template, "count": self.count,
                "first_seen": datetime.fromtimestamp(self.first_seen, UTC).isoformat(), "new": self.new,
                "spike": round(self.spike, 3), "error": self.error, "score": round(self.score, 3),
                "summary": self.describe()}


@dataclass
class _Track:
    first_seen: float
    new: bool
    text: str = ""
    error: bool = False
    mean: float | None = None
    var: float = 0.0
    # non-empty buckets, oldest first; the last one is still open: [bucket, count, peak, expected]
    hist: deque[list[float]] = field(default_factory=deque)


class LogAnomalyDetector:
    """One log stream's miner plus its anomaly state; feed lines in order with :meth:`observe`.

    Not thread-safe, like the miner it owns: a caller sharing one holds a lock.
    """

    def __init__(self, config: AnomalyConfig | None = None, miner: TemplateMiner | None = None) -> None:
        self.config = config or AnomalyConfig()
        self.miner = miner or TemplateMiner()
        self._alpha = 2.0 / (self.config.baseline_buckets + 1.0)
        self._tracks: dict[int, _Track] = {}
        self._lines = 0
        self._first: float | None = None
        self._last: float | None = None  # newest timestamp, for lines that carry none
        self._stamped = False  # whether any line had its own timestamp (continuations inherit it)
        self._templates = 0

    @property
    def warmed_up(self) -> bool:
        """True once enough lines and enough log time were seen to know the usual messages."""
        c = self.config
        span = (self._last - self._first) if self._first is not None and self._last is not None else 0.0
        return self._lines >= c.warmup_lines and span >= c.warmup_seconds

    @property
    def newest(self) -> float | None:
        return self._last

    def observe(self, line: str, arrival: float | None = None) -> Signal:
        """Parse the line's timestamp (if any), strip it, and score the rest.

        A line without a timestamp in a stream that has them is a continuation (a stack frame, a
        wrapped message) and belongs to the previous line's time, not to the time we read it.
        """
        ts, content = parse_timestamp(line, arrival)
        if ts is not None:
            self._stamped = True
        elif self._stamped and self._last is not None:
            ts = self._last
        else:
            ts = arrival if arrival is not None else time.time()
        return self.observe_at(content, ts)

    def observe_at(self, content: str, ts: float) -> Signal:
        """Score a line whose time is already known (no timestamp parsing)."""
        warm = self.warmed_up
        match = self.miner.add(content)
        if len(self.miner) < self._templates:  # a generalised template absorbed others
            self._fold()
        self._templates = len(self.miner)
        self._lines += 1
        self._first = ts if self._first is None else min(self._first, ts)
        self._last = ts if self._last is None else max(self._last, ts)
        track = self._tracks.get(match.template_id)
        if track is None:
            track = _Track(first_seen=ts, new=match.is_new and warm, mean=0.0 if warm else None)
            self._tracks[match.template_id] = track
        if track.text != match.template:
            track.text, track.error = match.template, is_error(match.template)
        bucket = int(ts // self.config.bucket_seconds)
        if not track.hist or bucket > track.hist[-1][0]:
            if track.hist:
                self._close(track, bucket)
            track.hist.append([bucket, 0, 0.0, track.mean or 0.0])
            if len(track.hist) > self.config.retain_buckets:
                track.hist.popleft()
        cur = track.hist[-1]  # an older bucket (out-of-order time) counts in the open one
        cur[1] += 1
        spike = self._spike(int(cur[1]), track) if warm else 0.0
        if spike > cur[2]:
            cur[2], cur[3] = spike, track.mean or 0.0
        fresh = match.is_new and track.new
        score = self._combine(fresh, spike, track.error)
        return Signal(match.template_id, match.template, ts, fresh, spike, track.error, score, int(cur[1]),
                      track.mean)

    def stats(self, start: float, end: float) -> list[TemplateStat]:
        """Every template with lines in ``[start, end]``, most anomalous first, then most frequent."""
        bs = self.config.bucket_seconds
        lo, hi = int(start // bs), int(end // bs)
        out: list[TemplateStat] = []
        for tid, t in self._tracks.items():
            rows = [h for h in t.hist if lo <= h[0] <= hi]
            if not rows:
                continue
            peak = max(rows, key=lambda h: h[2])
            new = t.new and start <= t.first_seen <= end
            spike = peak[2]
            out.append(TemplateStat(tid, t.text, int(sum(h[1] for h in rows)), t.first_seen, new, spike,
                                    int(peak[1]), peak[3], t.error, self._combine(new, spike, t.error), bs))
        return sorted(out, key=lambda s: (-s.score, -s.count, s.template_id))

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write miner and anomaly state as one JSON file (atomically), so ids stay consistent."""
        with tempfile.TemporaryDirectory() as tmp:
            self.miner.save(Path(tmp) / "miner.json")
            miner_state = json.loads((Path(tmp) / "miner.json").read_text(encoding="utf-8"))
        state = {
            "format": _FORMAT, "config": asdict(self.config), "miner": miner_state, "lines": self._lines,
            "first": self._first, "last": self._last, "stamped": self._stamped,
            "tracks": {str(k): {"first_seen": t.first_seen, "new": t.new, "mean": t.mean, "var": t.var,
                                "hist": list(t.hist)} for k, t in self._tracks.items()},
        }
        target = Path(path)
        tmp_file = target.with_name(target.name + ".tmp")
        tmp_file.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        tmp_file.replace(target)

    @classmethod
    def load(cls, path: str | Path) -> LogAnomalyDetector:
        """Rebuild a detector from :meth:`save` output; it continues exactly where it stopped."""
        state = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"not a log-anomaly state file: {path}")
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "miner.json").write_text(json.dumps(state["miner"], ensure_ascii=False), encoding="utf-8")
            miner = TemplateMiner.load(Path(tmp) / "miner.json")
        det = cls(AnomalyConfig(**state["config"]), miner)
        det._lines, det._first, det._last = int(state["lines"]), state["first"], state["last"]
        det._stamped, det._templates = bool(state["stamped"]), len(miner)
        for key, item in state["tracks"].items():
            tpl = miner.get(int(key))
            text = tpl.template if tpl else ""
            det._tracks[int(key)] = _Track(
                first_seen=float(item["first_seen"]), new=bool(item["new"]), text=text, error=is_error(text),
                mean=None if item["mean"] is None else float(item["mean"]), var=float(item["var"]),
                hist=deque([float(v) for v in h] for h in item["hist"]))
        return det

    # ------------------------------------------------------------------ internals
    def _combine(self, new: bool, spike: float, error: bool) -> float:
        base = max(self.config.new_template_score if new else 0.0, spike)
        return min(1.0, base * (self.config.error_weight if error else 1.0))

    def _spike(self, count: int, t: _Track) -> float:
        """Score the open bucket's count against the baseline of the closed ones, in [0, 1]."""
        if t.mean is None:
            return 0.0
        z = (count - t.mean) / math.sqrt(t.var + t.mean + 1.0)
        if z <= self.config.z_gate:
            return 0.0
        significance = 1.0 - math.exp(-(z - self.config.z_gate) / 3.0)
        ratio = (count + 1.0) / (t.mean + 1.0)
        magnitude = min(1.0, max(0.0, math.log(ratio) / math.log(self.config.full_ratio)))
        return significance * magnitude

    def _update(self, t: _Track, x: float) -> None:
        if t.mean is None:
            t.mean, t.var = x, 0.0
            return
        diff = x - t.mean
        inc = self._alpha * diff
        t.mean += inc
        t.var = (1.0 - self._alpha) * (t.var + diff * inc)

    def _close(self, t: _Track, upto: int) -> None:
        """Fold the open bucket into the baseline, then the empty buckets up to ``upto``."""
        last, count = int(t.hist[-1][0]), t.hist[-1][1]
        self._update(t, count)
        # after ~4 spans of zeros the baseline is ~0 anyway; stop there to bound the work
        for _ in range(min(upto - last - 1, 4 * self.config.baseline_buckets)):
            self._update(t, 0.0)

    def _fold(self) -> None:
        """Merge the tracks of templates the miner merged into their surviving template."""
        for tid in list(self._tracks):
            live = self.miner.resolve(tid)
            if live == tid:
                continue
            src = self._tracks.pop(tid)
            dst = self._tracks.setdefault(live, src)
            if dst is src:
                continue
            dst.first_seen, dst.new = min(dst.first_seen, src.first_seen), dst.new and src.new
            if src.mean is not None:
                dst.mean, dst.var = (dst.mean or 0.0) + src.mean, dst.var + src.var
            rows: dict[float, list[float]] = {h[0]: list(h) for h in dst.hist}
            for h in src.hist:
                row = rows.setdefault(h[0], [h[0], 0, 0.0, 0.0])
                row[1] += h[1]
                if h[2] > row[2]:
                    row[2], row[3] = h[2], h[3]
            dst.hist = deque(sorted(rows.values())[-self.config.retain_buckets:])
            tpl = self.miner.get(live)
            dst.text = tpl.template if tpl else dst.text
            dst.error = is_error(dst.text)
