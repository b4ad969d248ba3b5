"""Read the CSV files of a case by columns, fast and strictly.

Why by columns: the public benchmarks a converter turns into our format are large (tens of metrics
per service at 1 s over an hour or two: thousands of rows by over a thousand columns; hundreds of
thousands of log lines and spans). Read cell by cell in Python (a ``float()`` and a time parse per
cell, a dict per row) that cost seconds per file. Here csv's C reader splits the rows, a batch of
rows is turned into columns, and each column is converted by numpy in one call. numpy converts text
with Python's own ``float()``, so every value is the same to the bit; only a column that does not
convert whole (an empty cell, a word) takes the per-cell path, where an unreadable cell is a missing
sample.

Why strictly: files written by a converter we never saw are untidy. Whatever is wrong in one is a
``ValueError`` naming the file and the line (csv's own errors included), never a traceback from
inside the reader. What is plausible is read: bytes that are not UTF-8 are replaced (a message
counts by its template, not its bytes), a byte-order mark is dropped, a field may be as long as
:data:`FIELD_LIMIT` (a stack trace, a dumped payload), a row shorter than the header has empty cells
at its end, a blank line is skipped.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FIELD_LIMIT",
    "TIME_COLUMNS",
    "UNITS",
    "floats",
    "metric_table",
    "record_batches",
    "to_seconds",
]

FloatArray = NDArray[np.float64]

TIME_COLUMNS = ("time", "timestamp", "ts")
"""Accepted names of the time column (any case), in order of preference."""
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
FIELD_LIMIT = 1 << 26
"""Longest field read (64 MiB; csv's default, 128 KiB, stops at the first long stack trace)."""
BATCH_CELLS = 1 << 20
"""Cells converted at a time (at most 4096 rows): big enough for numpy to pay, small enough that the
text of a wide file is never held whole (a cell's text takes seven times the memory of its float:
a 7200 x 1800 metrics file peaked at 1.1 GB read 4096 rows at a time)."""


def to_seconds(value: Any, unit: str | None = None) -> float:
    """A time as unix (or relative) seconds, from a number or an ISO-8601 string.

    Numbers are seconds unless ``unit`` (``s``, ``ms``, ``us``, ``ns``) says otherwise; without a
    unit, an absolute epoch is recognised by its size (beyond 1e11 it cannot be seconds before the
    year 5000, so it is milliseconds; 1e14 microseconds; 1e17 nanoseconds). ISO strings without a
    zone are UTC. Raises ``ValueError`` for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise ValueError(f"not a time (unix seconds, ms or ISO-8601): {text!r}") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    if not math.isfinite(number):
        raise ValueError(f"not a time: {value!r}")
    if unit is not None:
        return number * UNITS[unit]
    size = abs(number)
    if size >= 1e17:
        return number / 1e9
    if size >= 1e14:
        return number / 1e6
    if size >= 1e11:
        return number / 1e3
    return number


def _epochs(numbers: FloatArray, unit: str | None) -> FloatArray:
    """:func:`to_seconds` of finite numbers, for a whole column at once (the same arithmetic)."""
    if unit is not None:
        return numbers * UNITS[unit]
    size = np.abs(numbers)
    return np.where(size >= 1e17, numbers / 1e9,
                    np.where(size >= 1e14, numbers / 1e6, np.where(size >= 1e11, numbers / 1e3, numbers)))


def seconds(cells: Sequence[str], lines: Sequence[int], unit: str | None, path: Path) -> FloatArray:
    """A column of times in seconds; ``ValueError`` naming the first line that holds no time."""
    try:
        numbers = np.array(cells, dtype=np.float64)
        if bool(np.isfinite(numbers).all()):
            return _epochs(numbers, unit)
    except (ValueError, TypeError, OverflowError):
        pass  # ISO-8601, or a cell that is no time: cell by cell, which says where
    out = np.empty(len(cells), dtype=np.float64)
    for i, (cell, line) in enumerate(zip(cells, lines, strict=True)):
        try:
            out[i] = to_seconds(cell, unit)
        except ValueError as exc:
            raise ValueError(f"{path}:{line}: bad time: {exc}") from None
    return out


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def floats(cells: Sequence[str]) -> FloatArray:
    """A column of numbers; an empty or unreadable cell (a word, ``n/a``) is NaN, a missing sample."""
    try:
        if "" in cells:  # gaps only: still one call
            return np.array([c or "nan" for c in cells], dtype=np.float64)
        return np.array(cells, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return np.fromiter((_number(c) for c in cells), dtype=np.float64, count=len(cells))


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every non-blank record, the header first; csv's errors as ``ValueError``."""
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                if row and (row[0].strip() or "".join(row).strip()):
                    yield reader.line_num, row
        except csv.Error as exc:
            raise ValueError(f"{path}:{reader.line_num}: not CSV: {exc}") from None


def _batches(rows: Iterator[tuple[int, list[str]]], width: int) -> Iterator[tuple[list[int], list[tuple[str, ...]]]]:
    """Line numbers and columns (``width`` of them; short rows padded, long ones cut) per batch."""
    size = min(4096, max(16, BATCH_CELLS // max(width, 1)))
    while True:
        lines: list[int] = []
        batch: list[list[str]] = []
        for line, row in itertools.islice(rows, size):
            lines.append(line)
            batch.append(row)
        if not batch:
            return
        if any(len(row) != width for row in batch):
            batch = [row[:width] if len(row) >= width else row + [""] * (width - len(row)) for row in batch]
        yield lines, list(zip(*batch, strict=True))


def _time_column(header: Sequence[str], path: Path) -> int:
    lowered = [h.strip().lower() for h in header]
    for name in TIME_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    raise ValueError(f"{path}: no time column (one of {', '.join(TIME_COLUMNS)}); header is {list(header)[:5]}")


def metric_table(path: Path, unit: str | None) -> tuple[list[float], dict[str, list[float]]]:
    """Times and metric columns of ``metrics.csv``, in time order, one row per time.

    Rows may come in any order (exports append per scrape batch, per pod, per file); the scorer
    reads a series in time order, so they are sorted (stably). Rows with the same time are one
    sample: each column takes the mean of its values there (a cell empty in one row takes the
    other's), as an overlapping export or a long-to-wide pivot that left one row per source writes.
    """
    rows = _rows(path)
    _, first = next(rows, (1, []))
    header = [h.strip() for h in first]
    if not header:
        raise ValueError(f"{path}: empty file (expected a header: time, then component:metric columns)")
    at = _time_column(header, path)
    # a second time column (``timestamp`` beside ``time``) is no metric: a counter of seconds that
    # rises through every incident
    others = [i for i, h in enumerate(header) if i != at and h.lower() not in TIME_COLUMNS]
    names = [header[i] for i in others]
    repeated = sorted(n for n, k in Counter(names).items() if k > 1)
    if repeated:
        raise ValueError(f"{path}: repeated column(s) {repeated[:5]}")
    if any(not n for n in names):
        raise ValueError(f"{path}: a column has no name")
    times: list[FloatArray] = []
    blocks: list[FloatArray] = []  # rows x columns, one block per batch
    for lines, cells in _batches(rows, len(header)):
        times.append(seconds(cells[at], lines, unit, path))
        block = np.empty((len(lines), len(others)), dtype=np.float64)
        for slot, i in enumerate(others):
            block[:, slot] = floats(cells[i])
        blocks.append(block)
    if not times:
        return [], {name: [] for name in names}
    t = np.concatenate(times)
    matrix = np.concatenate(blocks)
    del blocks
    if t.size > 1 and bool((np.diff(t) <= 0.0).any()):
        order = np.argsort(t, kind="stable")
        t, matrix = t[order], matrix[order]
        if bool((np.diff(t) == 0.0).any()):
            t, matrix = _merge_repeated_times(t, matrix)
    columns = np.ascontiguousarray(matrix.T)  # a column's samples side by side for tolist()
    del matrix
    return t.tolist(), {name: columns[j].tolist() for j, name in enumerate(names)}


def _merge_repeated_times(t: FloatArray, matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
    """One row per time (``t`` sorted): the mean of each column's finite values at that time."""
    starts = np.flatnonzero(np.concatenate(([True], np.diff(t) != 0.0)))
    finite = np.isfinite(matrix)
    total = np.add.reduceat(np.where(finite, matrix, 0.0), starts, axis=0)
    count = np.add.reduceat(finite.astype(np.float64), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        merged = np.where(count > 0, total / np.maximum(count, 1.0), np.nan)
    return t[starts], merged


def record_batches(
    path: Path,
    required: Sequence[str],
    wanted: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    unit: str | None,
) -> Iterator[tuple[list[int], FloatArray, dict[str, Sequence[str]]]]:
    """Batches of a ``logs.csv`` / ``traces.csv``: line numbers, times in seconds, and the text of
    each ``wanted`` column present (a column absent from the file is absent from the dict).

    Headers are read in any case, and an alias (``service`` for ``component`` …) stands for a
    documented name the file lacks; the ``time`` column is required and converted here.
    """
    rows = _rows(path)
    _, first = next(rows, (1, []))
    header = [h.strip().lower() for h in first]
    for name, names in aliases.items():
        if name not in header:
            alias = next((a for a in names if a in header), None)
            if alias is not None:
                header[header.index(alias)] = name
    missing = [c for c in ("time", *required) if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; header is {header}")
    at = header.index("time")
    present = {name: header.index(name) for name in wanted if name in header}
    for lines, cells in _batches(rows, len(header)):
        yield lines, seconds(cells[at], lines, unit, path), {name: cells[i] for name, i in present.items()}
