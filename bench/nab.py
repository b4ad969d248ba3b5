#!/usr/bin/env python3
"""NAB benchmark: steadyops' default metric detector scored with NAB's published rules.

Usage: ``bench/nab.py [--data DIR] [--out DIR] [--jobs N]``. DIR is a NAB v1.1 checkout layout
(``data/<category>/*.csv`` and ``labels/combined_windows.json``), so the same command runs on the
full 58-series corpus; default ``../shared/datasets/nab`` beside the project. OUT (default a
temporary folder) receives NAB-format result files, one per series:
``<detector>/<category>/<detector>_<file>.csv`` with ``timestamp,value,anomaly_score,label``.

Every series is fed to a fresh ``EnsembleDetector`` point by point, in file order, with NAB's
probationary length (15 %, at most 750 rows) as its only knowledge of the series: one
configuration for all. Scoring is ``steadyops.detect.metrics.scoring`` (NAB's sweeper: windows,
scaled sigmoid, per-profile cost matrices, one corpus-wide threshold per profile, normalisation
between the null and the perfect detector). The null, perfect and windowed-Gaussian detectors are
scored in the same run as a check of the scorer. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import SHARED
from nab_baselines import null_scores, perfect_scores, windowed_gaussian_scores
from nab_io import Series, load_corpus, write_result
from nab_scoring import PROFILES, CorpusScore, probation_length, score_profiles, window_rows

from steadyops.detect.metrics import EnsembleDetector

DEFAULT_DATA = SHARED / "nab"
DETECTOR = "steadyops"
PUBLISHED = "ARTime 74.9, Numenta HTM 70.5, CAD OSE 69.9, Random Cut Forest 51.7, Windowed Gaussian 39.6"


def run_detector(series: Series) -> list[float]:
    """One fresh detector per series; it sees each point once, in order."""
    detector = EnsembleDetector(probation=probation_length(len(series.values)))
    return [detector.update(t, x) for t, x in zip(series.times, series.values, strict=True)]


def run_gaussian(series: Series) -> list[float]:
    return windowed_gaussian_scores(series.values)


def score_all(corpus: list[Series], scores: dict[str, list[float]]) -> dict[str, CorpusScore]:
    rows = {s.name: (scores[s.name], window_rows(s.times, s.windows)) for s in corpus}
    return score_profiles(rows)


def by_category(results: dict[str, CorpusScore]) -> list[str]:
    """Each category's share of the corpus score, at the corpus-wide thresholds.

    Normalised like the corpus (null 0, perfect 100) over the category's own windows; a category
    without windows shows its raw score (0 unless it raised false positives). Scores computed
    this way are what the corpus total is made of, so a change that helps one family and hurts
    another shows here and not in the total.
    """
    lines = [f"{'category':<26}{'windows':>8}" + "".join(f"{name:>20}" for name in results) + f"{'FP':>6}{'hit':>8}"]
    categories = sorted({row.name.split("/")[0] for row in next(iter(results.values())).series})
    for category in categories:
        cells = []
        for name, result in results.items():
            rows = [r for r in result.series if r.name.split("/")[0] == category]
            windows = sum(r.windows for r in rows)
            raw = sum(r.score for r in rows)
            profile = PROFILES[name]
            null, perfect = -windows * profile.fn, windows * profile.tp
            cells.append(100.0 * (raw - null) / (perfect - null) if windows else raw)
        standard = [r for r in next(iter(results.values())).series if r.name.split("/")[0] == category]
        fp = sum(r.fp for r in standard)
        hit = f"{sum(r.windows_detected for r in standard)}/{sum(r.windows for r in standard)}"
        lines.append(f"{category:<26}{sum(r.windows for r in standard):8d}" + "".join(f"{c:20.2f}" for c in cells)
                     + f"{fp:6d}{hit:>8}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="NAB root (data/ and labels/)")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: a temporary one)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--verbose", action="store_true", help="also print every series' standard score")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    corpus = load_corpus(args.data)
    if not corpus:
        print(f"no series under {args.data / 'data'}", file=sys.stderr)
        return 2
    # Longest first so the pool is not left waiting on one big series at the end.
    order = sorted(corpus, key=lambda s: -len(s.values))
    with Pool(max(1, args.jobs)) as pool:
        ours = dict(zip((s.name for s in order), pool.map(run_detector, order, chunksize=1), strict=True))
        gaussian = dict(zip((s.name for s in order), pool.map(run_gaussian, order, chunksize=1), strict=True))
    detect_seconds = time.perf_counter() - started

    out_dir = args.out or Path(tempfile.mkdtemp(prefix="nab-results-"))
    for s in corpus:
        write_result(out_dir, DETECTOR, s, ours[s.name])

    results = score_all(corpus, ours)
    baselines = {
        "null": score_all(corpus, {s.name: null_scores(len(s.values)) for s in corpus}),
        "perfect": score_all(corpus, {s.name: perfect_scores(len(s.values), window_rows(s.times, s.windows))
                                      for s in corpus}),
        "windowedGaussian": score_all(corpus, gaussian),
    }
    seconds = time.perf_counter() - started

    windows = sum(len(s.windows) for s in corpus)
    points = sum(len(s.values) for s in corpus)
    print(f"NAB: {len(corpus)} series, {points} points, {windows} windows from {args.data}")
    print(f"results: {out_dir / DETECTOR}")
    print()
    if args.verbose:
        for row in results["standard"].series:
            print(f"  {row.name:<62}{row.score:8.3f}  windows {row.windows_detected}/{row.windows}  FP {row.fp}")
        print()
    print(f"{'detector':<18}{'profile':<20}{'score':>8}{'threshold':>11}{'TP':>6}{'FP':>6}{'FN':>8}{'windows':>10}")
    for detector, profiles in [(DETECTOR, results), *baselines.items()]:
        for name, result in profiles.items():
            c = result.counts
            hit = f"{c['windows_detected']}/{c['windows']}"
            print(f"{detector:<18}{name:<20}{result.normalised:8.2f}{result.threshold:11.4f}"
                  f"{c['tp']:6d}{c['fp']:6d}{c['fn']:8d}{hit:>10}")
    print()
    print("TP/FP/FN count rows (as NAB's *_scores.csv do); 'windows' = windows with a detection.")
    print()
    print(f"{DETECTOR} per category (corpus thresholds; FP and hit under the standard profile):")
    for line in by_category(results):
        print(f"  {line}")
    print(f"published, full 58-series corpus (standard): {PUBLISHED}")
    print(f"time: {seconds:.1f} s ({detect_seconds:.1f} s detection, {max(1, args.jobs)} processes)")

    summary = {
        "benchmark": "nab",
        "detector": DETECTOR,
        "series": len(corpus),
        "windows": windows,
        **{name: round(r.normalised, 2) for name, r in results.items()},
        "thresholds": {name: round(r.threshold, 6) for name, r in results.items()},
        "counts": {name: r.counts for name, r in results.items()},
        "baselines": {d: {name: round(r.normalised, 2) for name, r in p.items()} for d, p in baselines.items()},
        "seconds": round(seconds, 1),
    }
    print(json.dumps(summary, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
