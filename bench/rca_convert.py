#!/usr/bin/env python3
"""Convert public RCA data sets into steadyops' one case format (see ``bench/README.md``).

    python bench/rca_convert.py sockshop [--src DIR] [--out DIR]
    python bench/rca_convert.py petshop  [--src DIR] [--out DIR]

Only *layout* is converted here; nothing is filtered, scaled or selected, so the ranker sees what
the data set offers. The output goes to a git-ignored cache (``.bench-out/rca/<name>``); the shared
data sets are only read.

* **Sock Shop** (RCD's ``sock-shop-data``): ``<svc>-<fault>/<run>/normal.csv`` + ``anomalous.csv``.
  Columns ``<svc>_<metric>`` become ``<svc>:<metric>`` (Sock Shop service names hold ``-``, never
  ``_``). Normal window = the rows of ``normal.csv``; the fault starts at the first row of
  ``anomalous.csv``. The data set ships no call graph, so none is written.
* **PetShop** (amazon-science): ``<traffic>/noissue/metrics.csv`` is the normal window of every
  issue of that traffic level; each ``train``/``test`` issue is a case. Three header rows (node,
  metric, statistic) become ``<node>:<metric>_<statistic>``; ``graph.csv`` (an adjacency matrix,
  row calls column) becomes the topology; ``target.json`` gives the symptom (node, metric and
  statistic), the fault start (its timestamp) and the true root cause. The issue rows before the
  fault start belong to neither window.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import PROJECT, SHARED

from steadyops.rca.cases import write_case

CACHE = PROJECT / ".bench-out" / "rca"


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _read_plain(path: Path) -> tuple[list[float], dict[str, list[float]]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    tcol = header.index("time")
    times = [_num(r[tcol]) for r in rows[1:]]
    cols = {h: [_num(r[i]) for r in rows[1:]] for i, h in enumerate(header) if i != tcol}
    return times, cols


def convert_sockshop(src: Path, out: Path) -> int:
    count = 0
    for family in sorted(p for p in src.iterdir() if p.is_dir()):
        service, _, fault = family.name.rpartition("-")
        for run in sorted(p for p in family.iterdir() if p.is_dir()):
            t_norm, normal = _read_plain(run / "normal.csv")
            t_anom, anomalous = _read_plain(run / "anomalous.csv")
            names = [n for n in normal if n in anomalous]
            metrics = {
                "{}:{}".format(*n.split("_", 1)): normal[n] + anomalous[n] for n in names if "_" in n
            }
            meta = {
                "normal": [min(t_norm), max(t_norm)],
                "fault_start": min(t_anom),
                "end": max(t_anom),
                "root_cause": service,
                "labels": {"fault": fault},
                "source": f"rca-sockshop/{family.name}/{run.name}",
            }
            write_case(out / family.name / run.name, times=t_norm + t_anom, metrics=metrics, meta=meta)
            count += 1
    return count


def _read_petshop_metrics(path: Path) -> tuple[list[float], dict[str, list[float]]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    nodes, kinds, stats = rows[0], rows[1], rows[2]
    data = [r for r in rows[3:] if r and r[0] and r[0] != "unix_timestamp"]
    times = [_num(r[0]) for r in data]
    metrics: dict[str, list[float]] = {}
    for i in range(1, len(nodes)):
        name = f"{nodes[i]}:{kinds[i]}_{stats[i].lower()}"
        metrics[name] = [_num(r[i]) if i < len(r) else math.nan for r in data]
    return times, metrics


def _read_adjacency(path: Path) -> dict[str, list[str]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    callees = rows[0][1:]
    edges: dict[str, list[str]] = {}
    for row in rows[1:]:
        for callee, cell in zip(callees, row[1:], strict=False):
            if _num(cell) != 0.0 and not math.isnan(_num(cell)):
                edges.setdefault(row[0], []).append(callee)
    return edges


def convert_petshop(src: Path, out: Path) -> int:
    count = 0
    for scenario in sorted(p for p in src.iterdir() if p.is_dir()):
        topology = _read_adjacency(scenario / "graph.csv")
        t_norm, normal = _read_petshop_metrics(scenario / "noissue" / "metrics.csv")
        traffic = scenario.name.removesuffix("_traffic")
        for split in ("train", "test"):
            if not (scenario / split).is_dir():
                continue
            for issue in sorted((scenario / split).iterdir(), key=lambda p: (len(p.name), p.name)):
                target = json.loads((issue / "target.json").read_text())
                t_issue, anomalous = _read_petshop_metrics(issue / "metrics.csv")
                names = sorted(set(normal) | set(anomalous))
                nan_n, nan_a = [math.nan] * len(t_norm), [math.nan] * len(t_issue)
                metrics = {n: anomalous.get(n, nan_a) + normal.get(n, nan_n) for n in names}
                tgt = target["target"]
                meta = {
                    "normal": [min(t_norm), max(t_norm)],
                    "fault_start": float(tgt["timestamp"]),
                    "end": max(t_issue),
                    "symptom": {"component": tgt["node"], "metric": f"{tgt['metric']}_{str(tgt['agg']).lower()}"},
                    "root_cause": target["root_cause"]["node"],
                    "labels": {"traffic": traffic, "target": tgt["metric"]},
                    "source": f"rca-petshop/{scenario.name}/{split}/{issue.name}",
                }
                write_case(
                    out / scenario.name / f"{split}_{issue.name}",
                    times=t_issue + t_norm,
                    metrics=metrics,
                    meta=meta,
                    topology=topology,
                )
                count += 1
    return count


CONVERTERS = {
    "sockshop": (convert_sockshop, SHARED / "rca-sockshop"),
    "petshop": (convert_petshop, SHARED / "rca-petshop"),
}


def ensure(name: str, out: Path | None = None) -> Path:
    """Convert data set ``name`` into the cache unless it is already there; return the case root."""
    convert, src = CONVERTERS[name]
    target = out or CACHE / name
    if not any(target.rglob("case.json")) if target.is_dir() else True:
        convert(src, target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(CONVERTERS))
    parser.add_argument("--src", type=Path, help="the data set's folder (default: ../shared/datasets/…)")
    parser.add_argument("--out", type=Path, help="where to write cases (default: .bench-out/rca/<dataset>)")
    args = parser.parse_args()
    convert, default_src = CONVERTERS[args.dataset]
    out = args.out or CACHE / args.dataset
    count = convert(args.src or default_src, out)
    print(f"{count} cases written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
