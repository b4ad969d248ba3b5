"""The large-case generator (bench/rca_scale.py) at a tiny scale: what it writes is untidy the way a
converter's output is, and the loader reads all of it and ranks it (the bench's sizes are not a test)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rca_scale import FAULTS, Scale, generate, measure_one

from steadyops.rca import load_case


@pytest.mark.parametrize("fault", FAULTS)
def test_a_tiny_untidy_case_loads_and_ranks(tmp_path: Path, fault: str) -> None:
    scale = Scale(services=6, seconds=900, logs=3000, spans=3000)
    generate(tmp_path / fault, scale, fault, seed=3)
    raw = (tmp_path / fault / "metrics.csv").read_text().splitlines()
    stamps = [int(line.split(",", 1)[0]) for line in raw[1:]]
    assert stamps != sorted(stamps) and len(set(stamps)) < len(stamps)  # out of order, some twice
    case = load_case(tmp_path / fault)
    assert case.times == sorted(set(case.times)) and len(case.times) == scale.seconds
    assert len(case.metrics) == 6 * 30 and case.logs and case.spans and case.topology
    line = measure_one(tmp_path / fault, None)
    assert line["truth"] == case.root_cause and line["rank"] is not None


def test_the_untidy_parts_are_there(tmp_path: Path) -> None:
    generate(tmp_path / "c", Scale(services=4, seconds=600, logs=30_000, spans=500), "error", seed=1)
    data = (tmp_path / "c" / "logs.csv").read_bytes()
    assert b"\xe9" in data and b'"bo, jr' in data.replace(b'""', b'"')
    with (tmp_path / "c" / "traces.csv").open(newline="") as handle:
        codes = {row[7] for row in csv.reader(handle)}
    assert {"STATUS_CODE_UNSET", "200"} <= codes
