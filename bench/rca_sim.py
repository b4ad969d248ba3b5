#!/usr/bin/env python3
"""Root-cause ranking per kind of evidence on simulated multimodal cases (``tests/harness/rcasim.py``).

Usage: ``bench/rca_sim.py [--seeds N] [--no-topology] [--verbose] [--write DIR]``. Every service of the simulated
system is the culprit of every fault (CPU hog, latency injection, error injection, crash) once per
seed; each case is ranked from its metrics alone, logs alone, traces alone and all of them fused,
with the one configuration ``bench/rca.py`` uses. Prints AC@1 per fault and kind of evidence, and
one JSON line. What a kind cannot see is part of the result (logs do not show a network delay that
makes nobody fail or log).
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.harness

from steadyops.rca import rank_case, write_case
from tests.harness.rcasim import FAULTS, GRAPH, simulate, variant

KINDS = ("metrics", "logs", "traces", "fused")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-topology", action="store_true", help="cases without a topology file")
    parser.add_argument("--verbose", action="store_true", help="print every case a kind ranks wrong")
    parser.add_argument("--write", type=Path, help="also write the cases (all kinds) here, for bench/rca.py --data")
    args = parser.parse_args()
    services = sorted(set(GRAPH) | {c for cs in GRAPH.values() for c in cs})
    hits: dict[tuple[str, str], list[bool]] = {(f, k): [] for f in FAULTS for k in KINDS}
    for seed in range(1, args.seeds + 1):
        for fault in FAULTS:
            for culprit in services:
                case = simulate(seed * 100 + zlib.crc32(f"{fault}{culprit}".encode()) % 97, culprit, fault)
                if args.write:
                    write_case(args.write / f"seed{seed}" / case.name, times=case.times, metrics=case.metrics,
                               meta={"normal": list(case.normal), "fault_start": case.fault_start, "end": case.end,
                                     "root_cause": culprit, "labels": case.labels, "source": "rcasim"},
                               topology=case.topology, logs=case.logs, spans=case.spans)
                for kind in KINDS:
                    ranked = rank_case(variant(case, kind, topology=not args.no_topology)).services()
                    hit = bool(ranked) and ranked[0] == culprit
                    hits[(fault, kind)].append(hit)
                    if args.verbose and not hit:
                        print(f"  {fault}/{culprit}/{kind}/seed {seed}: ranked {ranked[:3]}")
    n = len(hits[(FAULTS[0], KINDS[0])])
    print(f"\nAC@1 on simulated cases ({len(services)} services x {args.seeds} seeds = {n} per fault; "
          f"topology {'off' if args.no_topology else 'on'})")
    print(f"{'fault':<10}" + "".join(f"{k:>9}" for k in KINDS))
    table: dict[str, dict[str, float]] = {}
    for fault in [*FAULTS, "all"]:
        row = {}
        for kind in KINDS:
            values = [h for f in FAULTS for h in hits[(f, kind)]] if fault == "all" else hits[(fault, kind)]
            row[kind] = round(sum(values) / len(values), 4)
        table[fault] = row
        print(f"{fault:<10}" + "".join(f"{row[k]:>9.2f}" for k in KINDS))
    print(json.dumps({"bench": "rca_sim", "seeds": args.seeds, "topology": not args.no_topology, "ac1": table},
                     sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
