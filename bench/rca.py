#!/usr/bin/env python3
"""Root-cause ranking benchmark: AC@1, AC@3 and Avg@5 of ``steadyops.rca`` on folders of RCA cases.

Usage::

    bench/rca.py                       # Sock Shop and PetShop, converted into .bench-out/rca/ first
    bench/rca.py --data DIR [--data DIR2]   # any folder(s) of cases in the one case format
    bench/rca.py --ablation            # also rerun steadyops with each ranker part switched off

A case folder is described in ``bench/README.md`` (``metrics.csv``, optional ``logs.csv`` /
``traces.csv``, ``topology``, ``case.json``); ``bench/rca_convert.py`` writes Sock Shop and PetShop in
it. Results are grouped by the labels each ``case.json`` carries (Sock Shop: fault; PetShop: traffic
level and target metric) and printed for every group and for all cases of a data set.

Metrics follow RCAEval / PetShop: AC@k is the share of cases whose true root cause is among the top k
components; Avg@5 is the mean of AC@1..AC@5. For scale the same run scores two peers, reimplemented
from RCAEval's recipe (drop constant columns, memory in MB, max of the scaled incident window,
increases only):
BARO's RobustScorer (median/IQR) and NSigma (mean/std). One configuration is used for every case and
every data set; nothing here depends on the data set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rca_convert import ensure

from steadyops.rca import RcaConfig, ScoringConfig, rank_case
from steadyops.rca.cases import RcaCase, component_of, discover_cases

# Best baseline of the PetShop paper's own results (top-1 / top-3), as listed in the shared
# datasets README, printed beside our numbers for reference.
PETSHOP_BEST = {
    ("low", "latency"): (0.57, 0.57),
    ("low", "availability"): (0.83, 1.00),
    ("high", "latency"): (0.57, 0.79),
    ("high", "availability"): (0.67, 1.00),
}

Ranker = Callable[[RcaCase], tuple[list[str], bool]]


def _peer(case: RcaCase, robust: bool) -> list[str]:
    normal, incident = case.windows()
    scores: list[tuple[float, str]] = []
    for name, base in normal.items():
        a = np.asarray(base, dtype=np.float64)
        b = np.asarray(incident.get(name, []), dtype=np.float64)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if a.size == 0 or b.size == 0 or np.all(a == a[0]) or np.all(b == b[0]):
            continue  # RCAEval drops constant columns
        if "mem" in name.rpartition(":")[2]:
            a, b = a / 1e6, b / 1e6  # RCAEval's recipe reads memory in MB
        if robust:
            q1, q3 = np.percentile(a, [25.0, 75.0])
            center, scale = float(np.median(a)), float(q3 - q1)
        else:
            center, scale = float(a.mean()), float(a.std())
        scores.append((float(np.max((b - center) / (scale or 1.0))), name))
    ranked: list[str] = []
    for _, name in sorted(scores, key=lambda s: -s[0]):
        if component_of(name) not in ranked:
            ranked.append(component_of(name))
    return ranked


def steadyops(config: RcaConfig) -> Ranker:
    def rank(case: RcaCase) -> tuple[list[str], bool]:
        result = rank_case(case, config)
        return result.services(), result.inconclusive

    return rank


def ablations() -> dict[str, RcaConfig]:
    """The default configuration with one part switched off at a time (config flags, not code)."""
    base = RcaConfig()
    return {
        "steadyops": base,
        "-direction": replace(base, scoring=replace(base.scoring, directional=False)),
        "-flat": replace(base, scoring=replace(base.scoring, flat_handling=False)),
        "-onset": replace(base, scoring=replace(base.scoring, onset=False)),
        "-recurring": replace(base, scoring=replace(base.scoring, recurring=False)),
        "-flat-failures": replace(base, scoring=replace(base.scoring, flat_failures=False)),
        "-blips": replace(base, scoring=replace(base.scoring, isolated_blips=False)),
        "-same-metric": replace(base, same_metric=False),
        "-opaque-hops": replace(base, opaque_hops=False),
        "-gone-wholly": replace(base, gone_wholly=False),
        "-quiet-callees": replace(base, quiet_callees=False),
        "-residual-noise": replace(base, residual_noise=False),
        "-callers": replace(base, callers_explain=False),
        "-separation": replace(base, topology="none"),
        "pagerank": replace(base, topology="pagerank"),
        "-symptom": replace(base, use_symptom=False),
        "-symptom-kind": replace(base, symptom_kind=False),
        "-logs": replace(base, use_logs=False),
        "-traces": replace(base, use_traces=False),
        "bare": RcaConfig(
            scoring=ScoringConfig(
                directional=False, flat_handling=False, onset=False, recurring=False, flat_failures=False,
                isolated_blips=False,
            ),
            topology="none",
            opaque_hops=False,
            gone_wholly=False,
            quiet_callees=False,
            residual_noise=False,
            callers_explain=False,
            use_symptom=False,
            symptom_kind=False,
            use_logs=False,
            use_traces=False,
        ),
    }


def accuracy(positions: list[int]) -> dict[str, float]:
    """positions: 0-based rank of the true root cause per case (a large number when absent)."""
    n = max(len(positions), 1)
    ac = [sum(1 for p in positions if p < k) / n for k in range(1, 6)]
    return {"ac1": ac[0], "ac3": ac[2], "avg5": sum(ac) / 5}


def _group(case: RcaCase) -> str:
    return "/".join(case.labels[k] for k in sorted(case.labels)) or "-"


def _scored(root: Path) -> Iterator[RcaCase]:
    """The cases under ``root`` that name their root cause, one at a time.

    Why not a list: a case of a public benchmark at 1 s resolution with its logs and traces takes
    hundreds of megabytes in memory, and a data set has hundreds of them; all at once they do not fit.
    """
    for case in discover_cases(root):
        if case.root_cause:
            yield case
        del case  # not held while the next one loads (callers drop theirs too)


def run(root: Path, methods: dict[str, Ranker], verbose: bool) -> dict[str, object]:
    positions: dict[str, dict[str, list[int]]] = {m: defaultdict(list) for m in methods}
    unsure: dict[str, int] = defaultdict(int)
    seconds = 0.0
    count = 0
    for case in _scored(root):
        count += 1
        for method, rank in methods.items():
            started = time.perf_counter()
            ranked, inconclusive = rank(case)
            if method == "steadyops":
                seconds += time.perf_counter() - started
                unsure["all"] += inconclusive
                unsure[_group(case)] += inconclusive
                if verbose and (not ranked or ranked[0] != case.root_cause):
                    print(f"  {case.name}: truth={case.root_cause} ranked={ranked[:4]} inconclusive={inconclusive}")
            pos = ranked.index(case.root_cause) if case.root_cause in ranked else 10**6
            positions[method]["all"].append(pos)
            positions[method][_group(case)].append(pos)
        del case

    if not count:
        raise SystemExit(f"no cases with a root_cause under {root}")
    groups = ["all", *sorted(g for g in positions["steadyops"] if g != "all")]
    print(f"\nRoot-cause ranking on {root.name}: {count} cases, one configuration")
    header = f"{'method':<15} {'group':<18} {'cases':>5} {'AC@1':>6} {'AC@3':>6} {'Avg@5':>6} {'inconcl.':>8}"
    print(header)
    print("-" * len(header))
    for group in groups:
        for method in methods:
            acc = accuracy(positions[method][group])
            shown = str(unsure[group]) if method == "steadyops" else "-"
            print(
                f"{method:<15} {group:<18} {len(positions[method][group]):>5} "
                f"{acc['ac1']:>6.3f} {acc['ac3']:>6.3f} {acc['avg5']:>6.3f} {shown:>8}"
            )
        best = PETSHOP_BEST.get(tuple(group.split("/")[::-1]))  # labels sort as target/traffic
        if best:
            print(f"{'best published':<15} {group:<18} {'':>5} {best[0]:>6.2f} {best[1]:>6.2f}")
    return {
        "bench": "rca",
        "dataset": root.name,
        "cases": count,
        "groups": {g: {k: round(v, 4) for k, v in accuracy(positions["steadyops"][g]).items()} for g in groups},
        "peers": {m: round(accuracy(positions[m]["all"])["avg5"], 4) for m in methods if m != "steadyops"},
        "inconclusive": unsure["all"],
        "ms_per_case": round(1000 * seconds / count, 2),
    }


def ablation_table(roots: list[Path]) -> None:
    configs = ablations()
    print("\nAblation (steadyops with one part switched off; AC@1 / Avg@5 per group)")
    rows: dict[str, list[str]] = {}
    columns: list[str] = []
    for root in roots:
        ranks = {label: steadyops(cfg) for label, cfg in configs.items()}
        pos: dict[str, dict[str, list[int]]] = {label: defaultdict(list) for label in configs}
        for case in _scored(root):  # each case loaded once, ranked by every configuration
            for label, rank in ranks.items():
                ranked, _ = rank(case)
                p = ranked.index(case.root_cause) if case.root_cause in ranked else 10**6
                pos[label]["all"].append(p)
                pos[label][_group(case)].append(p)
            del case
        groups = ["all", *sorted(g for g in pos["steadyops"] if g != "all")]
        columns += [f"{root.name}:{g}" for g in groups]
        for label in configs:
            for g in groups:
                acc = accuracy(pos[label][g])
                rows.setdefault(label, []).append(f"{acc['ac1']:.2f}/{acc['avg5']:.2f}")
    width = max(len(c) for c in columns) + 1
    first = max(len(label) for label in rows) + 1
    print(f"{'config':<{first}}" + "".join(f"{c:>{width}}" for c in columns))
    for label, cells in rows.items():
        print(f"{label:<{first}}" + "".join(f"{c:>{width}}" for c in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="folder of cases (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print every case steadyops does not rank first")
    parser.add_argument("--ablation", action="store_true", help="also print the ablation table")
    args = parser.parse_args()
    roots: list[Path] = args.data or [ensure("sockshop"), ensure("petshop")]
    for root in roots:
        if not root.is_dir():
            parser.error(f"no such folder: {root}")
    methods: dict[str, Ranker] = {
        "steadyops": steadyops(RcaConfig()),
        "BARO (peer)": lambda c: (_peer(c, robust=True), False),
        "NSigma (peer)": lambda c: (_peer(c, robust=False), False),
    }
    lines = [run(root, methods, args.verbose) for root in roots]
    if args.ablation:
        ablation_table(roots)
    for line in lines:
        print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
