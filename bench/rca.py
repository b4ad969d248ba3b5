#!/usr/bin/env python3
"""Root-cause ranking benchmark: AC@1, AC@3 and Avg@5 of ``steadyops.rca`` on fault-injection cases.

Usage: ``bench/rca.py [--data DIR] [--verbose]``. DIR holds one folder per case family named
``<service>-<fault>`` or ``<service>_<fault>`` (the ground truth), each with numbered runs. A run is
either ``normal.csv`` + ``anomalous.csv`` (the RCD / "Sock Shop 1" layout shared here) or RCAEval's
``data.csv`` + ``inject_time.txt`` (split at the injection time), so the same command runs on the
full public benchmarks. Default DIR: ``../shared/datasets/rca-sockshop`` beside the project.

Metrics follow RCAEval: AC@k is the share of cases whose true root cause is among the top k
services; Avg@5 is the mean of AC@1..AC@5. For scale the same run scores two peers, reimplemented
from RCAEval's recipe (drop time and constant columns, memory in MB, max of the scaled incident
window): BARO's RobustScorer (median/IQR) and NSigma (mean/std). One configuration is used for
every case; nothing here depends on the dataset.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from steadyops.rca import rank_root_causes, service_of

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "rca-sockshop"
TIME_COLUMNS = {"time", "timestamp", "Time", "time.1"}

Series = dict[str, list[float]]


@dataclass
class Case:
    name: str
    root_cause: str
    fault: str
    normal: Series
    anomalous: Series


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_csv(path: Path) -> tuple[list[float], Series]:
    """Time column (empty if none) and every other column as floats (unparseable → NaN)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns: list[list[float]] = [[] for _ in header]
        for row in reader:
            for i, cell in enumerate(row[: len(header)]):
                columns[i].append(_number(cell))
    times: list[float] = []
    series: Series = {}
    for name, values in zip(header, columns, strict=True):
        if name in TIME_COLUMNS:
            times = times or values
        else:
            series[name] = values
    return times, series


def split_family(name: str) -> tuple[str, str]:
    """``carts-cpu`` / ``ts-auth-service_cpu`` → (service, fault)."""
    sep = "_" if "_" in name else "-"
    service, _, fault = name.rpartition(sep)
    return (service, fault) if service else (name, "?")


def load_run(run: Path) -> tuple[Series, Series] | None:
    if (run / "normal.csv").is_file() and (run / "anomalous.csv").is_file():
        return read_csv(run / "normal.csv")[1], read_csv(run / "anomalous.csv")[1]
    if (run / "data.csv").is_file() and (run / "inject_time.txt").is_file():
        inject = float((run / "inject_time.txt").read_text().split()[0])
        times, series = read_csv(run / "data.csv")
        cut = sum(1 for t in times if t < inject)
        return {k: v[:cut] for k, v in series.items()}, {k: v[cut:] for k, v in series.items()}
    return None


def discover(root: Path) -> Iterator[Case]:
    for family in sorted(p for p in root.iterdir() if p.is_dir()):
        service, fault = split_family(family.name)
        runs = [family] if load_run(family) else sorted(p for p in family.iterdir() if p.is_dir())
        for run in runs:
            loaded = load_run(run)
            if loaded is not None:
                name = family.name if run == family else f"{family.name}/{run.name}"
                yield Case(name, service, fault, *loaded)


# --- peers, as RCAEval runs them ------------------------------------------------------------------


def _peer(normal: Series, anomalous: Series, robust: bool) -> list[str]:
    scores: list[tuple[float, str]] = []
    for name, base in normal.items():
        a = np.asarray(base, dtype=np.float64)
        b = np.asarray(anomalous.get(name, []), dtype=np.float64)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if a.size == 0 or b.size == 0 or np.all(a == a[0]) or np.all(b == b[0]):
            continue  # RCAEval drops constant columns from each window
        if name.endswith("_mem"):
            a, b = a / 1e6, b / 1e6
        if robust:
            q1, q3 = np.percentile(a, [25.0, 75.0])
            center, scale = float(np.median(a)), float(q3 - q1)
        else:
            center, scale = float(a.mean()), float(a.std())
        scores.append((float(np.max((b - center) / (scale or 1.0))), name))
    ranked: list[str] = []
    for _, name in sorted(scores, key=lambda s: -s[0]):
        if service_of(name) not in ranked:
            ranked.append(service_of(name))
    return ranked


def steadyops_rank(case: Case) -> tuple[list[str], bool]:
    result = rank_root_causes(case.normal, case.anomalous)
    return result.services(), result.inconclusive


METHODS: dict[str, Callable[[Case], tuple[list[str], bool]]] = {
    "steadyops": steadyops_rank,
    "BARO (peer)": lambda c: (_peer(c.normal, c.anomalous, robust=True), False),
    "NSigma (peer)": lambda c: (_peer(c.normal, c.anomalous, robust=False), False),
}


def accuracy(positions: list[int]) -> dict[str, float]:
    """positions: 0-based rank of the true root cause per case (a large number when absent)."""
    n = max(len(positions), 1)
    ac = [sum(1 for p in positions if p < k) / n for k in range(1, 6)]
    return {"ac1": ac[0], "ac3": ac[2], "avg5": sum(ac) / 5}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of <service>-<fault>/<run>/ cases")
    parser.add_argument("--verbose", action="store_true", help="print every case steadyops does not rank first")
    args = parser.parse_args()
    if not args.data.is_dir():
        parser.error(f"no such folder: {args.data}")

    cases = list(discover(args.data))
    if not cases:
        parser.error(f"no cases under {args.data}")
    faults = sorted({c.fault for c in cases})
    positions: dict[str, dict[str, list[int]]] = {m: {f: [] for f in [*faults, "all"]} for m in METHODS}
    inconclusive = {f: 0 for f in [*faults, "all"]}
    seconds = 0.0
    for case in cases:
        for method, rank in METHODS.items():
            started = time.perf_counter()
            ranked, unsure = rank(case)
            if method == "steadyops":
                seconds += time.perf_counter() - started
                inconclusive[case.fault] += unsure
                inconclusive["all"] += unsure
                if args.verbose and (not ranked or ranked[0] != case.root_cause or unsure):
                    print(f"  {case.name}: truth={case.root_cause} ranked={ranked[:4]} inconclusive={unsure}")
            pos = ranked.index(case.root_cause) if case.root_cause in ranked else 10**6
            positions[method][case.fault].append(pos)
            positions[method]["all"].append(pos)

    print(f"Root-cause ranking on {args.data.name}: {len(cases)} cases, one configuration")
    header = f"{'method':<15} {'fault':<6} {'cases':>5} {'AC@1':>6} {'AC@3':>6} {'Avg@5':>6} {'inconcl.':>8}"
    print(header)
    print("-" * len(header))
    for method in METHODS:
        for fault in ["all", *faults]:
            acc = accuracy(positions[method][fault])
            shown = str(inconclusive[fault]) if method == "steadyops" else "-"
            print(
                f"{method:<15} {fault:<6} {len(positions[method][fault]):>5} "
                f"{acc['ac1']:>6.3f} {acc['ac3']:>6.3f} {acc['avg5']:>6.3f} {shown:>8}"
            )
    ours = accuracy(positions["steadyops"]["all"])
    line = {
        "bench": "rca",
        "dataset": args.data.name,
        "cases": len(cases),
        **{k: round(v, 4) for k, v in ours.items()},
        "inconclusive": inconclusive["all"],
        "per_fault": {f: {k: round(v, 4) for k, v in accuracy(positions["steadyops"][f]).items()} for f in faults},
        "peers": {m: round(accuracy(positions[m]["all"])["avg5"], 4) for m in METHODS if m != "steadyops"},
        "ms_per_case": round(1000 * seconds / len(cases), 2),
    }
    print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
