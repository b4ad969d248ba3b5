"""What file actions call to learn a file's identity at plan time and to delete it at apply time.

Both go through :meth:`Shell.fs` (the :mod:`steadyops.execution.fsops` walk, local or over SSH), so the object deleted
is the object planned — same ``(st_dev, st_ino)``, size and mtime — reached without following a
symlink. :class:`Removal` keeps every file's fate, so the outcome (and with it the audit entry)
says what was really deleted, skipped or refused, not what was meant to be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from steadyops.core.models import Step
from steadyops.execution import fsops
from steadyops.execution.shell import Guard, Shell


@dataclass(frozen=True)
class Identity:
    dev: int
    ino: int


async def identify(sh: Shell, guard: Guard, paths: Sequence[str]) -> dict[str, Identity | None]:
    """``(dev, ino)`` of each regular file reached through the walk; ``None`` for anything else."""
    if not paths:
        return {}
    roots = await guard.real_roots()
    results = await sh.fs({"op": "identify", "roots": roots, "entries": [{"path": p} for p in paths]})
    return {r["path"]: Identity(int(r["dev"]), int(r["ino"])) if r.get("kind") == "f" else None for r in results}


@dataclass
class Removal:
    """Every file's fate: ``deleted``, ``skipped`` (changed or gone since planning) or ``refused``."""

    results: list[dict[str, Any]] = field(default_factory=list)

    def _with(self, done: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("done") == done]

    @property
    def deleted(self) -> list[str]:
        return [str(r["path"]) for r in self._with(fsops.DELETED)]

    @property
    def refused(self) -> list[dict[str, Any]]:
        return [{"path": r["path"], "reason": r.get("reason", "")} for r in self._with(fsops.REFUSED)]

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return [{"path": r["path"], "reason": r.get("reason", "")} for r in self._with(fsops.SKIPPED)]

    def details(self) -> dict[str, Any]:
        """For the outcome (and so the audit): the identities of what was deleted, and every failure."""
        return {"deleted": self.deleted,
                "deleted_identity": {r["path"]: [r.get("dev"), r.get("ino")] for r in self._with(fsops.DELETED)},
                "refused": self.refused, "skipped_at_delete": self.skipped}

    def summary(self) -> str:
        """'' when everything planned was deleted; else what was not, and why (the first reason)."""
        parts = []
        if self.refused:
            parts.append(f"refused {len(self.refused)} ({self.refused[0]['path']}: {self.refused[0]['reason']})")
        if self.skipped:
            parts.append(f"kept {len(self.skipped)} that changed at the last moment")
        return "; ".join(parts)


async def remove(sh: Shell, guard: Guard, steps: Sequence[Step]) -> Removal:
    """Delete each step's file if, reached through the walk, it is still what the step planned."""
    entries = [{"path": s.paths[0], "dev": s.dev, "ino": s.ino, "size": s.bytes, "mtime": s.mtime} for s in steps]
    return await remove_entries(sh, guard, entries)


async def remove_entries(sh: Shell, guard: Guard, entries: Sequence[dict[str, Any]]) -> Removal:
    """As :func:`remove` for files with no plan step (a compressed copy made by apply itself)."""
    if not entries:
        return Removal()
    return Removal(await sh.fs({"op": "remove", "roots": await guard.real_roots(), "entries": list(entries)}))
