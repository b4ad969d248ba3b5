"""Benchmark helpers live in ``bench/`` (scripts, not the package); their own unit tests import
them from there, the way the benchmark scripts do."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
