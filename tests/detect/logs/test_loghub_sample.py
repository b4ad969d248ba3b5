"""One real Loghub-2k system, when the shared datasets sit beside the checkout (skipped otherwise)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from steadyops.detect.logs import TemplateMiner

_HERE = Path(__file__).resolve()
SAMPLE = next(
    (p / "shared" / "datasets" for p in _HERE.parents if (p / "shared" / "datasets").is_dir()),
    _HERE.parents[3].parent / "shared" / "datasets",
) / "loghub-2k" / "HDFS" / "HDFS_2k.log_structured_corrected.csv"


@pytest.mark.skipif(not SAMPLE.is_file(), reason="shared Loghub-2k datasets not present")
def test_hdfs_groups_and_templates_match_the_ground_truth() -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    miner = TemplateMiner()
    ids = [miner.add(row["Content"]).template_id for row in rows]
    parsed = [miner.resolve(i) for i in ids]

    groups: dict[int, list[int]] = defaultdict(list)
    for n, pid in enumerate(parsed):
        groups[pid].append(n)
    truth = Counter(row["EventId"] for row in rows)
    grouped_right = sum(
        len(members)
        for members in groups.values()
        if len({rows[n]["EventId"] for n in members}) == 1 and len(members) == truth[rows[members[0]]["EventId"]]
    )
    templates = {pid: (t.template if (t := miner.get(pid)) else "") for pid in groups}
    parsed_right = sum(1 for n, pid in enumerate(parsed) if templates[pid] == rows[n]["EventTemplate"])

    assert grouped_right / len(rows) >= 0.99
    assert parsed_right / len(rows) >= 0.9
