#!/usr/bin/env python3
"""Log-session anomaly benchmark: precision / recall / F1 of ``steadyops.detect.logs.sequence``.

Usage: ``bench/loganomaly.py [--data DIR]``. DIR is one data set in the layout of
ait-aecid/anomaly-detection-log-datasets: ``<name>_train`` (normal sessions, the only data the model
sees), ``<name>_test_normal``, ``<name>_test_abnormal`` and optional per-fault files
``<name>_test_abnormal_<fault>``. Each line is ``session_id,ev ev ev ...`` (or just the events).
Default DIR: ``../shared/datasets/log-anomaly-hadoop`` beside the project.

Precision / recall / F1 are over ``test_normal`` + ``test_abnormal`` with *abnormal* as the positive
class. Thresholds come from the training file only. For context the table also prints each rule of
the model alone, a detector that flags every session, and the *ceiling* of any detector that accepts
its own training sessions: test sessions identical to a training session must get the training
session's verdict whatever the model, so they bound what is reachable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import SHARED

from steadyops.detect.logs.sequence import SequenceModel, SessionVerdict

DEFAULT_DATA = SHARED / "log-anomaly-hadoop"

Session = tuple[str, tuple[str, ...]]


def read_sessions(path: Path) -> list[Session]:
    sessions: list[Session] = []
    with path.open() as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            sid, comma, events = line.partition(",")
            if not comma:  # no session id column
                sid, events = f"line-{number}", line
            sessions.append((sid, tuple(events.split())))
    return sessions


def find(data: Path, suffix: str) -> Path:
    hits = sorted(p for p in data.iterdir() if p.is_file() and p.name.endswith(suffix))
    if len(hits) != 1:
        raise SystemExit(f"expected exactly one *{suffix} file in {data}, found {[p.name for p in hits]}")
    return hits[0]


def prf(flags_abnormal: Sequence[bool], flags_normal: Sequence[bool]) -> dict[str, float]:
    tp = sum(flags_abnormal)
    fn = len(flags_abnormal) - tp
    fp = sum(flags_normal)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": len(flags_normal) - fp,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with *_train, *_test_normal, ...")
    args = parser.parse_args()
    data: Path = args.data
    if not data.is_dir():
        parser.error(f"no such folder: {data}")

    train_path = find(data, "_train")
    prefix = train_path.name[: -len("_train")]
    train = read_sessions(train_path)
    normal = read_sessions(find(data, "_test_normal"))
    abnormal = read_sessions(find(data, "_test_abnormal"))
    per_fault = {
        p.name[len(prefix) + len("_test_abnormal_") :]: read_sessions(p)
        for p in sorted(data.glob(f"{prefix}_test_abnormal_*"))
        if p.is_file()
    }

    started = time.perf_counter()
    model = SequenceModel().fit(s for _, s in train)
    fitted = time.perf_counter()
    cache: dict[tuple[str, ...], SessionVerdict] = {}

    def verdict(events: tuple[str, ...]) -> SessionVerdict:
        if events not in cache:
            cache[events] = model.score(events)
        return cache[events]

    ours_abnormal = [verdict(s).anomalous for _, s in abnormal]
    ours_normal = [verdict(s).anomalous for _, s in normal]
    scored = time.perf_counter()
    ours = prf(ours_abnormal, ours_normal)

    rules: dict[str, Callable[[SessionVerdict], bool]] = {
        "  unseen events only": lambda v: bool(v.unseen_events),
        "  transitions only": lambda v: any("transitions" in r for r in v.reasons),
        "  length only": lambda v: any(r.startswith("length") for r in v.reasons),
    }
    seen = {s for _, s in train}
    rows: list[tuple[str, dict[str, float]]] = [("steadyops sequence model", ours)]
    for name, rule in rules.items():
        rows.append((name, prf([rule(verdict(s)) for _, s in abnormal], [rule(verdict(s)) for _, s in normal])))
    rows.append(("flag every session", prf([True] * len(abnormal), [True] * len(normal))))
    rows.append(("oracle ceiling (accepts train)", prf([s not in seen for _, s in abnormal], [False] * len(normal))))

    print(
        f"Log anomaly detection on {data.name}: trained on {len(train)} normal sessions; "
        f"test {len(normal)} normal + {len(abnormal)} abnormal"
    )
    header = f"{'detector':<32} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5}"
    print(header)
    print("-" * len(header))
    for name, m in rows:
        print(
            f"{name:<32} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} "
            f"{m['tp']:>5} {m['fp']:>5} {m['fn']:>5} {m['tn']:>5}"
        )
    duplicates = sum(1 for _, s in abnormal if s in seen)
    same_normal = sum(1 for _, s in normal if s in seen)
    print(
        f"\n{duplicates} of {len(abnormal)} abnormal and {same_normal} of {len(normal)} normal test sessions are "
        "identical to a normal training session; no sequence model can tell those apart."
    )

    fault_recall: dict[str, float] = {}
    if per_fault:
        print(f"\n{'fault':<24} {'sessions':>8} {'recall':>7} {'identical to training':>22}")
        for fault, sessions in per_fault.items():
            hits = sum(verdict(s).anomalous for _, s in sessions)
            fault_recall[fault] = hits / len(sessions) if sessions else 0.0
            same = sum(1 for _, s in sessions if s in seen)
            print(f"{fault:<24} {len(sessions):>8} {fault_recall[fault]:>7.3f} {same:>22}")

    line = {
        "bench": "loganomaly",
        "dataset": data.name,
        "train": len(train),
        "test_normal": len(normal),
        "test_abnormal": len(abnormal),
        **{k: round(v, 4) for k, v in ours.items() if k in ("precision", "recall", "f1")},
        "per_fault_recall": {k: round(v, 4) for k, v in fault_recall.items()},
        "flag_all_f1": round(prf([True] * len(abnormal), [True] * len(normal))["f1"], 4),
        "ceiling_f1": round(rows[-1][1]["f1"], 4),
        "fit_s": round(fitted - started, 3),
        "score_s": round(scored - fitted, 3),
        "config": {"order": model.config.order, "top_k": model.config.top_k, "threshold": model.threshold},
    }
    print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
