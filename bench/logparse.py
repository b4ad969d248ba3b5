#!/usr/bin/env python3
"""Log parsing benchmark: steadyops' template miner against Drain3 on Loghub-2k.

    python bench/logparse.py [--data DIR] [--only HDFS,Spark] [--orders N]

DIR holds one folder per system with ``<System>_2k.log_structured_corrected.csv`` (or
``..._structured.csv``); every system folder present is parsed, so the same command runs on the
8 shared systems and on the full 16-system Loghub-2k. All parsers read the ``Content`` column
with ONE configuration for every system:

* ``steadyops``       ``TemplateMiner()`` from :mod:`steadyops.detect.logs` (its defaults);
* ``drain3``          Drain3 ``TemplateMiner`` with Drain3's default ``TemplateMinerConfig()``
                      (what ``TemplateMiner()`` uses when no ``drain3.ini`` is present);
* ``drain3+masking``  Drain3 with the masking configuration shipped as ``examples/drain3.ini`` in
                      the Drain3 repository, reproduced in :func:`drain3_masking_config` below
                      (its masking list, ``<:``/``:>`` mask affixes and [DRAIN] section; only its
                      profiler is left off, since profiling is not parsing).

Metrics (per system, then the plain mean over systems):

* GA, grouping accuracy, as LogPAI ``evaluator.py`` ``get_accuracy``: a message counts when the
  set of messages in its parsed group equals the set in its ground-truth group (by ``EventId``).
* GA/tpl, the same grouping accuracy with the ground-truth groups taken from ``EventTemplate``
  instead of ``EventId``, as Loghub-2.0's ``GA_calculator.py`` does. The two differ where the
  corrected ground truth gives one template several ids (Linux: three ids for one
  ``authentication failure ... user=<*>`` template, told apart only by the user name).
* GA ceiling: the GA (by ``EventId``) of the ground truth's own templates used as the groups, i.e.
  the best any parser can score whose groups follow its template strings. Below 1 only where the
  corrected ground truth gives one template string several ids (Linux: 0.814).
* PA, parsing accuracy, as Loghub-2.0 ``PA_calculator.py``: the share of messages whose template
  string equals the ground-truth ``EventTemplate``. A parser's named masks (Drain3's ``<:NUM:>``)
  count as ``<*>`` and runs of whitespace as one space, for every parser alike.
* lines/s: lines parsed per second of parsing time (reading the CSV excluded), single process,
  fastest of ``--repeat`` runs (each with a fresh parser), summed over systems.

Each line is assigned the *final* template of the group it was put in (what LogPAI's harness
writes for Drain), ids handed out while streaming are followed through later merges.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import SHARED  # noqa: E402

DEFAULT_DATA = SHARED / "loghub-2k"

try:
    from steadyops.detect.logs import TemplateMiner
    from steadyops.detect.logs.tokens import clear_caches
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(ROOT / "src"))
    from steadyops.detect.logs import TemplateMiner
    from steadyops.detect.logs.tokens import clear_caches

# targets hold on EVERY system (the lowest one counts), not on the average
TARGET_GA = 0.95
TARGET_PA = 0.85
TARGET_SPEEDUP = 1.5  # lines/s against drain3+masking, measured in the same run

Parsed = tuple[list[str], list[str], float]  # group key per line, template per line, seconds


# --------------------------------------------------------------------------- parsers
def parse_steadyops(lines: Sequence[str]) -> Parsed:
    clear_caches()  # every timed run starts cold, like a fresh Drain3 miner
    miner = TemplateMiner()
    t0 = time.perf_counter()
    ids = [miner.add(line).template_id for line in lines]
    elapsed = time.perf_counter() - t0
    final: dict[int, str] = {}
    keys: list[str] = []
    templates: list[str] = []
    for tid in ids:
        live = miner.resolve(tid)
        if live not in final:
            tpl = miner.get(live)
            final[live] = tpl.template if tpl else ""
        keys.append(str(live))
        templates.append(final[live])
    return keys, templates, elapsed


def drain3_masking_config() -> Any:
    """Drain3's shipped example configuration (``examples/drain3.ini``), rebuilt in code."""
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    b, e = r"((?<=[^A-Za-z0-9])|^)", r"((?=[^A-Za-z0-9])|$)"
    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [
        MaskingInstruction(b + r"(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))" + e, "ID"),
        MaskingInstruction(b + r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})" + e, "IP"),
        MaskingInstruction(b + r"([0-9a-f]{6,} ?){3,}" + e, "SEQ"),
        MaskingInstruction(b + r"([0-9A-F]{4} ?){4,}" + e, "SEQ"),
        MaskingInstruction(b + r"(0x[a-f0-9A-F]+)" + e, "HEX"),
        MaskingInstruction(b + r"([\-\+]?\d+)" + e, "NUM"),
        MaskingInstruction(r"(?<=executed cmd )(\".+?\")", "CMD"),
    ]
    cfg.mask_prefix = "<:"
    cfg.mask_suffix = ":>"
    cfg.drain_sim_th = 0.4
    cfg.drain_depth = 4
    cfg.drain_max_children = 100
    cfg.drain_max_clusters = 1024
    cfg.drain_extra_delimiters = ["_"]
    cfg.snapshot_interval_minutes = 10
    cfg.snapshot_compress_state = True
    return cfg


def _parse_drain3(lines: Sequence[str], config: Any) -> Parsed:
    from drain3 import TemplateMiner as Drain3Miner

    miner = Drain3Miner(config=config)
    t0 = time.perf_counter()
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    elapsed = time.perf_counter() - t0
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [str(i) for i in ids], [final.get(i, "") for i in ids], elapsed


def parse_drain3_default(lines: Sequence[str]) -> Parsed:
    from drain3.template_miner_config import TemplateMinerConfig

    return _parse_drain3(lines, TemplateMinerConfig())


def parse_drain3_masking(lines: Sequence[str]) -> Parsed:
    return _parse_drain3(lines, drain3_masking_config())


PARSERS: dict[str, Callable[[Sequence[str]], Parsed]] = {
    "steadyops": parse_steadyops,
    "drain3": parse_drain3_default,
    "drain3+masking": parse_drain3_masking,
}


# --------------------------------------------------------------------------- metrics
def grouping_accuracy(truth: Sequence[str], parsed: Sequence[str]) -> float:
    """LogPAI evaluator.get_accuracy: messages whose parsed group equals their true group."""
    keep = [i for i, t in enumerate(truth) if t != ""]
    true_size = Counter(truth[i] for i in keep)
    groups: dict[str, list[int]] = defaultdict(list)
    for i in keep:
        groups[parsed[i]].append(i)
    accurate = 0
    for members in groups.values():
        true_ids = {truth[i] for i in members}
        if len(true_ids) == 1 and len(members) == true_size[next(iter(true_ids))]:
            accurate += len(members)
    return accurate / len(keep) if keep else 0.0


_NAMED_MASK = re.compile(r"<:[A-Za-z0-9_]+:>")


def normalise_template(template: str) -> str:
    """Named masks count as ``<*>``; whitespace runs as one space (same for every parser)."""
    return " ".join(_NAMED_MASK.sub("<*>", template).split())


def parsing_accuracy(truth: Sequence[str], parsed: Sequence[str]) -> float:
    """Loghub-2.0 PA_calculator: messages whose template string equals the true template."""
    if not truth:
        return 0.0
    return sum(1 for t, p in zip(truth, parsed, strict=True) if normalise_template(p) == t) / len(truth)


def worst_order(
    content: Sequence[str], event_ids: Sequence[str], templates: Sequence[str], orders: int
) -> tuple[float, float]:
    """steadyops' lowest GA and PA over ``orders`` seeded shuffles of the lines (same lines, other order)."""
    worst_ga = worst_pa = 1.0
    for seed in range(orders):
        order = list(range(len(content)))
        random.Random(seed).shuffle(order)
        keys, parsed, _ = parse_steadyops([content[i] for i in order])
        worst_ga = min(worst_ga, grouping_accuracy([event_ids[i] for i in order], keys))
        worst_pa = min(worst_pa, parsing_accuracy([templates[i] for i in order], parsed))
    return worst_ga, worst_pa


# --------------------------------------------------------------------------- data
def find_structured(folder: Path) -> Path | None:
    for pattern in ("*_structured_corrected.csv", "*_structured.csv"):
        hits = sorted(folder.glob(pattern))
        if hits:
            return hits[0]
    return None


def load_system(path: Path) -> tuple[list[str], list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [r["Content"] for r in rows], [r["EventId"] for r in rows], [r["EventTemplate"] for r in rows]


# --------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with one sub-folder per system")
    ap.add_argument("--only", default="", help="comma-separated system names to run (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per parser and system; the fastest counts")
    ap.add_argument(
        "--orders",
        type=int,
        default=0,
        help="also parse each system in N shuffled orders (seeds 0..N-1) and report steadyops' worst GA/PA",
    )
    args = ap.parse_args(argv)
    logging.getLogger("drain3").setLevel(logging.ERROR)

    folders = sorted(p for p in args.data.iterdir() if p.is_dir()) if args.data.is_dir() else []
    wanted = {s for s in args.only.split(",") if s}
    systems = [(p.name, f) for p in folders if (not wanted or p.name in wanted) and (f := find_structured(p))]
    if not systems:
        print(f"no Loghub-style systems under {args.data}", file=sys.stderr)
        return 2

    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in PARSERS}
    ceiling: dict[str, float] = {}
    shuffled: dict[str, tuple[float, float]] = {}
    totals = {name: [0, 0.0] for name in PARSERS}
    for system, path in systems:
        content, event_ids, templates = load_system(path)
        ceiling[system] = grouping_accuracy(event_ids, templates)
        if args.orders:
            shuffled[system] = worst_order(content, event_ids, templates, args.orders)
        for name, parse in PARSERS.items():
            keys, parsed_templates, seconds = parse(content)
            for _ in range(args.repeat - 1):  # a fresh parser each time; accuracy is deterministic
                seconds = min(seconds, parse(content)[2])
            results[name][system] = {
                "GA": grouping_accuracy(event_ids, keys),
                "GA_tpl": grouping_accuracy(templates, keys),
                "PA": parsing_accuracy(templates, parsed_templates),
                "lines_per_s": len(content) / seconds if seconds > 0 else float("inf"),
            }
            totals[name][0] += len(content)
            totals[name][1] += seconds

    summary: dict[str, dict[str, Any]] = {}
    for name in PARSERS:
        per = results[name]
        summary[name] = {
            "GA": sum(r["GA"] for r in per.values()) / len(per),
            "PA": sum(r["PA"] for r in per.values()) / len(per),
            "GA_tpl": sum(r["GA_tpl"] for r in per.values()) / len(per),
            "lines_per_s": totals[name][0] / totals[name][1] if totals[name][1] > 0 else float("inf"),
            "per_system": {s: {k: round(v, 4) for k, v in r.items()} for s, r in per.items()},
        }

    names = list(PARSERS)
    head = f"{'system':<12}" + "".join(f"{n + ' GA':>18}{n + ' PA':>18}" for n in names)
    print(head)
    print("-" * len(head))
    for system, _ in systems:
        cells = "".join(f"{results[n][system]['GA']:>18.3f}{results[n][system]['PA']:>18.3f}" for n in names)
        print(f"{system:<12}{cells}")
    print("-" * len(head))
    print(f"{'average':<12}" + "".join(f"{summary[n]['GA']:>18.3f}{summary[n]['PA']:>18.3f}" for n in names))
    print(f"{'lines/s':<12}" + "".join(f"{summary[n]['lines_per_s']:>36,.0f}" for n in names))

    print("\nGA with ground-truth groups by EventTemplate (Loghub-2.0 GA_calculator):")
    print(f"{'system':<12}" + "".join(f"{n + ' GA/tpl':>22}" for n in names) + f"{'GA ceiling':>14}")
    for system, _ in systems:
        cells = "".join(f"{results[n][system]['GA_tpl']:>22.3f}" for n in names)
        print(f"{system:<12}{cells}{ceiling[system]:>14.3f}")
    mean_ceiling = sum(ceiling.values()) / len(ceiling)
    print(f"{'average':<12}" + "".join(f"{summary[n]['GA_tpl']:>22.3f}" for n in names) + f"{mean_ceiling:>14.3f}")
    print("(GA ceiling: GA by EventId when the groups are the ground truth's own template strings)")

    if shuffled:
        print(
            f"\nsteadyops in {args.orders} shuffled orders per system (worst order; a streaming miner should not care):"
        )
        print(f"{'system':<12}{'GA':>10}{'worst GA':>10}{'PA':>10}{'worst PA':>10}")
        for system, _ in systems:
            r = results["steadyops"][system]
            print(
                f"{system:<12}{r['GA']:>10.3f}{shuffled[system][0]:>10.3f}{r['PA']:>10.3f}{shuffled[system][1]:>10.3f}"
            )

    ours, peer = summary["steadyops"], summary["drain3+masking"]
    per_ours = results["steadyops"]
    min_ga = min(r["GA"] for r in per_ours.values())
    min_ga_tpl = min(r["GA_tpl"] for r in per_ours.values())
    min_pa = min(r["PA"] for r in per_ours.values())
    speedup = ours["lines_per_s"] / peer["lines_per_s"]
    verdict = {
        "GA": min_ga >= TARGET_GA,
        "GA_tpl": min_ga_tpl >= TARGET_GA,
        "PA": min_pa >= TARGET_PA,
        "throughput": speedup >= TARGET_SPEEDUP,
    }
    print(
        f"\nsteadyops, lowest system: GA {min_ga:.3f} (GA/tpl {min_ga_tpl:.3f}; target {TARGET_GA}), "
        f"PA {min_pa:.3f} (target {TARGET_PA}); {speedup:.2f}x the lines/s of drain3+masking "
        f"(target {TARGET_SPEEDUP}x)"
    )
    record = {
        "benchmark": "logparse",
        "systems": [s for s, _ in systems],
        "targets": {
            "GA_min": TARGET_GA,
            "PA_min": TARGET_PA,
            "speedup": TARGET_SPEEDUP,
            "throughput_vs": "drain3+masking",
        },
        "met": verdict,
        "ga_ceiling": {k: round(v, 4) for k, v in ceiling.items()},
        "worst_order": {k: {"GA": round(v[0], 4), "PA": round(v[1], 4)} for k, v in shuffled.items()},
        "results": {
            n: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()} for n, s in summary.items()
        },
    }
    print(json.dumps(record, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
