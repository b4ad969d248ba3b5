"""Reading a NAB corpus and writing NAB-format result files (helper of ``bench/nab.py``).

Layout read (NAB v1.1, unchanged so the full public benchmark works as is)::

    DIR/data/<category>/<file>.csv             timestamp,value
    DIR/labels/combined_windows.json           {"<category>/<file>.csv": [[start, end], ...]}

Layout written, as NAB's runner does::

    OUT/<detector>/<category>/<detector>_<file>.csv   timestamp,value,anomaly_score,label
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def epoch(text: str) -> float:
    """NAB timestamps ("2014-04-01 00:00:00[.000000]") as UTC epoch seconds."""
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC).timestamp()


@dataclass
class Series:
    """One data file: raw timestamp strings (written back verbatim), epoch seconds, values, windows."""

    name: str  # "<category>/<file>.csv", the key used in the label files
    stamps: list[str]
    times: list[float]
    values: list[float]
    windows: list[tuple[float, float]] = field(default_factory=list)

    def labels(self) -> list[int]:
        """1 inside any window (limits inclusive), else 0: NAB's ``label`` column."""
        return [int(any(a <= t <= b for a, b in self.windows)) for t in self.times]


def load_corpus(data_dir: Path) -> list[Series]:
    """Every ``data/**/*.csv`` with its windows; files missing from the labels have none."""
    windows_path = data_dir / "labels" / "combined_windows.json"
    raw_windows: dict[str, list[list[str]]] = json.loads(windows_path.read_text()) if windows_path.exists() else {}
    corpus: list[Series] = []
    for path in sorted((data_dir / "data").rglob("*.csv")):
        name = path.relative_to(data_dir / "data").as_posix()
        stamps: list[str] = []
        values: list[float] = []
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                stamps.append(row["timestamp"])
                values.append(float(row["value"]))
        windows = [(epoch(a), epoch(b)) for a, b in raw_windows.get(name, [])]
        corpus.append(Series(name, stamps, [epoch(s) for s in stamps], values, windows))
    return corpus


def result_path(out_dir: Path, detector: str, name: str) -> Path:
    """NAB's naming: ``<detector>/<category>/<detector>_<file>.csv``."""
    category, _, file_name = name.rpartition("/")
    return out_dir / detector / category / f"{detector}_{file_name}"


def write_result(out_dir: Path, detector: str, series: Series, scores: list[float]) -> Path:
    path = result_path(out_dir, detector, series.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        for stamp, value, score, label in zip(series.stamps, series.values, scores, series.labels(), strict=True):
            writer.writerow([stamp, repr(value), f"{score:.6f}", label])
    return path
