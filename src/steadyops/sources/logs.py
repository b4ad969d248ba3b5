"""Configured log sources: tail local files, mine and score them, answer searches and summaries.

Why tails and not whole files: diagnosis needs the last minutes to hours around an incident, and a
bounded read (``max_bytes`` per source, 5 MiB by default) keeps the first look fast and the memory
bounded however large the logs grew. After the first look only the bytes appended since are read.

Files are tracked by (device, inode), not by name, so a rotation that renames ``app.log`` to
``app.log.1`` is not read twice, and a file truncated in place (copytruncate) is read again from
its start. Compressed rotations (``.gz`` …) are skipped: they are older than the tail we read and
were already seen, uncompressed, before they were rotated. Only regular files that the glob itself
names are opened — no symlinks (``O_NOFOLLOW``) and no FIFOs or devices, which could point the
reader outside the configured paths or block it. Diagnosis reads :func:`log_evidence`.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import math
import os
import re
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

from steadyops.config.logs import LogSource
from steadyops.core.errors import ConfigError

if TYPE_CHECKING:  # the miner is imported on first use: a search that mines nothing stays light
    from steadyops.detect.logs.anomaly import AnomalyConfig, TemplateStat

__all__ = ["LOG_WEIGHT", "LogLine", "LogSource", "LogSources", "compile_pattern", "log_evidence"]

log = logging.getLogger(__name__)

LOG_WEIGHT = 1.5  # the most a target's score gains from its logs: below one CRITICAL check (3.0)
MIN_EVIDENCE_SCORE = 0.3  # weaker template anomalies are not cited as diagnosis evidence

_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".z")
_MAX_LINE = 16_384  # longer lines are cut: a blob in a log is not a message worth mining in full
_CHUNK = 1 << 20
_MATCH_CHARS = 1_000  # a search reads this much of each line: bounds one match's backtracking (~n^3)
_SEARCH_SECONDS = 5.0


@dataclass(frozen=True)
class LogLine:
    """One line held from a source's tail, with where it came from."""

    target: str
    file: str
    line: int
    timestamp: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "file": self.file, "line": self.line,
                "time": _iso(self.timestamp), "text": self.text}


@dataclass
class _FileState:
    path: str  # the name it has now: a rotated file's lines are reported under its new name
    offset: int  # bytes consumed (always at a line boundary)
    lines: int | None  # lines before ``offset``; None while not counted (a file skipped by the budget)
    mark: bytes = b""  # the bytes just before ``offset``: if they changed, the file was rewritten


@dataclass(frozen=True)
class _Held:
    file: _FileState
    line: int
    timestamp: float
    text: str


def _open_regular(path: str, key: tuple[int, int] | None = None) -> BinaryIO | None:
    """Open a regular file without following a symlink or blocking on a FIFO; None if it is not one
    (or no longer the file ``key`` names: it was replaced between the glob and the open)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    f = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (key is not None and (st.st_dev, st.st_ino) != key):
        f.close()
        return None
    return f


def _count_newlines(f: BinaryIO, start: int, end: int) -> int:
    """Newlines in ``[start, end)``: a memchr-speed scan, done once per skipped region."""
    f.seek(start)
    return sum(f.read(min(_CHUNK, end - pos)).count(b"\n") for pos in range(start, end, _CHUNK))


class _Stream:
    """One configured source: its files, the lines held for search and its anomaly detector."""

    def __init__(self, source: LogSource, config: AnomalyConfig | None, now: Callable[[], float]) -> None:
        from steadyops.detect.logs.anomaly import LogAnomalyDetector

        self.source = source
        self.detector = LogAnomalyDetector(config)
        self.now = now
        self.files: dict[tuple[int, int], _FileState] = {}
        self.lines: deque[_Held] = deque()
        self.held = 0
        self.lock = threading.Lock()

    def _matches(self) -> list[tuple[str, os.stat_result]]:
        out = []
        for path in glob.glob(os.path.expanduser(self.source.path)):
            if path.lower().endswith(_COMPRESSED):
                continue
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):  # lstat: a symlink is not a regular file
                    out.append((path, st))
        return out

    def refresh(self) -> None:
        """Read what was appended since the last look, newest data first within the byte budget."""
        with self.lock:
            budget = self.source.max_bytes
            seen: dict[tuple[int, int], _FileState] = {}
            plan: list[tuple[_FileState, tuple[int, int], int, int]] = []
            for path, st in sorted(self._matches(), key=lambda f: (f[1].st_mtime, f[0]), reverse=True):
                key = (st.st_dev, st.st_ino)
                if key in seen:  # a hard link to a file already planned
                    continue
                state = self.files.get(key)
                if state is None or st.st_size < state.offset or not self._unchanged(path, key, state):
                    state = _FileState(path, 0, 0)  # new, or truncated / rewritten in place
                state.path = path
                seen[key] = state
                take = min(max(st.st_size - state.offset, 0), budget)
                budget -= take
                if take:
                    plan.append((state, key, st.st_size - take, st.st_size))
                elif st.st_size > state.offset:  # older data beyond the budget: never read it later
                    state.offset, state.lines, state.mark = st.st_size, None, b""
            self.files = seen
            for state, key, start, end in reversed(plan):  # oldest first, as the lines were written
                try:
                    self._read(state, key, start, end)
                except OSError as exc:
                    log.warning("log source %s: cannot read %s: %s", self.source.path, state.path, exc)

    @staticmethod
    def _unchanged(path: str, key: tuple[int, int], state: _FileState) -> bool:
        """Whether the bytes before our offset are still there: copytruncate can regrow a file past it."""
        try:
            f = _open_regular(path, key) if state.mark else None
        except OSError:
            f = None  # unreadable now: keep the state, the read will report it
        if f is None:
            return True
        with f:
            return os.pread(f.fileno(), len(state.mark), state.offset - len(state.mark)) == state.mark

    def _read(self, state: _FileState, key: tuple[int, int], start: int, end: int) -> None:
        f = _open_regular(state.path, key)
        if f is None:
            return  # replaced between the glob and the open: next refresh sees the new file
        with f:
            if start > state.offset:  # jump to the first line that starts inside the budget
                f.seek(start - 1)
                before = f.read(1)
                data = f.read(end - start)
                if before != b"\n":
                    cut = data.find(b"\n")
                    data = data[cut + 1:] if cut >= 0 else b""
                    start = end - len(data)
                known = state.lines is not None  # else count from the start of the file
                state.lines = (state.lines or 0) + _count_newlines(f, state.offset if known else 0, start)
            else:
                f.seek(start)
                data = f.read(end - start)
        last = data.rfind(b"\n")
        if last < 0 and len(data) < self.source.max_bytes:  # only a partial line so far: wait for its end
            if state.offset != start:
                state.offset, state.mark = start, b""
            return
        body = data[: last + 1] if last >= 0 else data + b"\n"
        state.offset = start + (last + 1 if last >= 0 else len(data))
        state.mark = data[max(0, state.offset - start - 32): state.offset - start]
        self._ingest(state, body)

    def _ingest(self, state: _FileState, body: bytes) -> None:
        arrival = self.now()
        number = state.lines or 0
        for raw in body.split(b"\n")[:-1]:
            number += 1
            text = raw.decode(self.source.encoding, "replace").rstrip("\r")[:_MAX_LINE]
            if not text.strip():
                continue
            signal = self.detector.observe(text, arrival)
            self.lines.append(_Held(state, number, signal.timestamp, text))
            self.held += len(text) + 1  # characters, close enough to bytes for a memory bound
            while self.held > self.source.max_bytes and self.lines:
                self.held -= len(self.lines.popleft().text) + 1
        state.lines = number


_TOKEN = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\(\?P=|\(\??|\{\d*(?:,\d*)?\}|.", re.S)


def _risky(pattern: str) -> str | None:
    """Why ``pattern`` could keep Python's backtracking ``re`` (which has no timeout) busy for
    minutes, or None: a repeated group holding a quantifier or alternation ("(a+)+", "(a|b)*"), a
    back-reference, or more than two unbounded repeats (".*a.*b.*c" is n^4: measured 15 minutes
    over 20,000 lines of 200 characters, against 3 s for ".*a.*b")."""
    stack: list[bool] = []  # per open group: does it hold a quantifier or an alternation?
    unbounded, prev, closed = 0, "", False
    for tok in _TOKEN.findall(pattern):
        if tok == "(?P=" or (len(tok) == 2 and tok[0] == "\\" and tok[1] in "123456789"):
            return "a back-reference"
        if tok in ("*", "+", "?") or (tok[0] == "{" and len(tok) > 1):
            if prev[:1] in ("*", "+", "?", "{"):  # "*?" is a lazy repeat, not a second one
                continue
            unbounded += tok in ("*", "+") or tok.endswith(",}")
            if prev == ")" and closed and tok != "?":
                return "a repeated group with a quantifier or alternation inside"
            if stack:
                stack[-1] = True
        elif tok == "|" and stack:
            stack[-1] = True
        elif tok[0] == "(":
            stack.append(False)
        elif tok == ")" and stack:
            closed = stack.pop()
            if stack:
                stack[-1] = stack[-1] or closed
        prev = tok
    return "more than two unbounded repeats (*, +, {n,})" if unbounded > 2 else None


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A case-insensitive regex, or plain text when the pattern is not a valid regex; ValueError
    (saying why, so the caller can rephrase) for a pattern :func:`_risky` refuses."""
    why = _risky(pattern)
    if why:
        raise ValueError(f"pattern refused: {why} can take minutes to match; use a simpler pattern or plain text")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(pattern), re.IGNORECASE)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _epoch(value: datetime | float) -> float:
    """Seconds since the epoch; a naive datetime is UTC, as everywhere in the store."""
    if isinstance(value, float | int):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class LogSources:
    """Every configured log source, grouped by target; reads lazily, on each question asked.

    Thread-safe: diagnosis (a worker thread) and agent tools may ask at the same time.
    """

    def __init__(self, sources: Sequence[LogSource], *, known_targets: Collection[str] | None = None,
                 config: AnomalyConfig | None = None, now: Callable[[], float] | None = None) -> None:
        self.now = now or time.time
        self._streams: dict[str, list[_Stream]] = {}
        for i, src in enumerate(sources):
            if known_targets is not None and src.target not in known_targets:
                raise ConfigError(f"log_sources.{i}.target: unknown target {src.target!r}; "
                                  f"known: {', '.join(sorted(known_targets))}")
            self._streams.setdefault(src.target, []).append(_Stream(src, config, self.now))

    def targets(self) -> set[str]:
        return set(self._streams)

    def _for(self, target: str | None) -> list[_Stream]:
        if target is None:
            return [s for streams in self._streams.values() for s in streams]
        if target not in self._streams:
            raise ValueError(f"no log source for target {target!r}; targets with logs: "
                             f"{', '.join(sorted(self._streams)) or '(none)'}")
        return self._streams[target]

    def refresh(self, target: str | None = None) -> None:
        for s in self._for(target):
            s.refresh()

    def search(self, target: str | None, pattern: str, since: datetime | float | None = None,
               limit: int = 50) -> list[LogLine]:
        """The newest ``limit`` held lines matching ``pattern`` (regex or plain text), oldest first.
        Lines are matched on their first ``_MATCH_CHARS`` characters, newest first, for at most
        ``_SEARCH_SECONDS``: a slow pattern returns the newest matches found by then (or times out)."""
        rx, since_ts = compile_pattern(pattern), None if since is None else _epoch(since)
        hits: list[LogLine] = []
        deadline = time.monotonic() + _SEARCH_SECONDS
        for s in self._for(target):
            s.refresh()
            found: list[LogLine] = []
            with s.lock:
                for h in reversed(s.lines):
                    if time.monotonic() > deadline:
                        if not hits and not found:  # "no match" would be a false answer
                            raise TimeoutError(f"no match within {_SEARCH_SECONDS:g}s: use a more specific pattern")
                        break
                    if (since_ts is None or h.timestamp >= since_ts) and rx.search(h.text, 0, _MATCH_CHARS):
                        found.append(LogLine(s.source.target, h.file.path, h.line, h.timestamp, h.text))
                        if len(found) >= limit:
                            break
            hits += reversed(found)
        hits.sort(key=lambda ln: ln.timestamp)  # stable: lines of one time keep the order they were written
        return hits[-limit:]

    def _stats(self, target: str, start: float, end: float) -> list[tuple[str, TemplateStat]]:
        out: list[tuple[str, TemplateStat]] = []
        for s in self._for(target):
            s.refresh()
            with s.lock:
                out += [(s.source.path, st) for st in s.detector.stats(start, end)]
        return sorted(out, key=lambda x: (-x[1].score, -x[1].count, x[0], x[1].template_id))

    def template_summary(self, target: str, window: timedelta = timedelta(hours=1), now: datetime | None = None,
                         top: int = 10) -> dict[str, Any]:
        """Top templates by count, new templates and spiking templates over the last ``window``."""
        end = _epoch(now) if now is not None else self.now()
        start = end - window.total_seconds()
        rows = [{"source": src, **st.to_dict()} for src, st in self._stats(target, start, end)]  # most anomalous first
        newest = max((t for t in (s.detector.newest for s in self._for(target)) if t is not None), default=None)
        return {
            "target": target, "window": {"start": _iso(start), "end": _iso(end)},
            "newest_line": None if newest is None else _iso(newest),  # tells stale logs from quiet ones
            "lines": sum(r["count"] for r in rows), "templates": len(rows),
            "top": sorted(rows, key=lambda r: -r["count"])[:top],
            "new": [r for r in rows if r["new"]][:top],
            "spiking": [r for r in rows if r["spike"] > 0][:top],
        }

    def anomalies_around(self, target: str, start: datetime | float, before: timedelta = timedelta(minutes=15),
                         after: timedelta = timedelta(minutes=5)) -> list[TemplateStat]:
        """Templates that were new or spiking from ``before`` ahead of ``start`` to ``after`` it."""
        t0 = _epoch(start)
        stats = self._stats(target, t0 - before.total_seconds(), t0 + after.total_seconds())
        return [st for _, st in stats if st.score > 0]


def log_evidence(logs: LogSources | None, scope: Iterable[str], start: datetime, score: dict[str, float],
                 per_target: int = 3) -> list[dict[str, Any]]:
    """Diagnosis evidence from logs around ``start``; adds each target's log contribution to ``score``:
    ``LOG_WEIGHT`` times the noisy-or of its top anomaly scores, so one strong signal counts nearly
    fully, weak ones add up, and logs corroborate checks (a CRITICAL one is worth 3.0) rather than
    outvote them. A source that cannot be read costs its evidence, not the diagnosis."""
    if logs is None:
        return []
    out: list[dict[str, Any]] = []
    for target in sorted(set(scope) & logs.targets()):
        try:
            found = [st for st in logs.anomalies_around(target, start) if st.score >= MIN_EVIDENCE_SCORE]
        except (OSError, ValueError) as exc:
            log.warning("log evidence for %s unavailable: %s", target, exc)
            continue
        if not found:
            continue
        top = found[:per_target]
        score[target] = score.get(target, 0.0) + LOG_WEIGHT * (1.0 - math.prod(1.0 - st.score for st in top))
        out += [{"kind": "log", "target": target, "detail": st.template, "summary": st.describe(),
                 "score": round(st.score, 3)} for st in top]
    return out
