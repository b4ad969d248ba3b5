"""Where the shared data sets are: ``shared/datasets`` in the nearest folder above the project.

Why: a checkout may sit directly beside ``shared/`` or deeper (a git worktree one level further down);
a fixed ``../shared`` finds the data in only one of those layouts.
"""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SHARED = next(
    (p / "shared" / "datasets" for p in PROJECT.parents if (p / "shared" / "datasets").is_dir()),
    PROJECT.parent / "shared" / "datasets",
)
