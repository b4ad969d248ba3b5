"""Where the shared data sets are: ``shared/datasets`` in the nearest folder above the project.

Why: the main checkout sits at ``/work/main`` (data at ``/work/shared``) but worktrees sit one level
deeper (``/work/wt/<tag>``); a fixed ``../shared`` finds the data in only one of them.
"""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SHARED = next(
    (p / "shared" / "datasets" for p in PROJECT.parents if (p / "shared" / "datasets").is_dir()),
    PROJECT.parent / "shared" / "datasets",
)
