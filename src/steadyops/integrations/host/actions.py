"""``host.clean_logs`` (磁盘清理 for application logs): archive-then-delete, or compress, old files.

The plan lists every file with its size and mtime; apply re-checks each file right before
touching it and skips any that changed since planning, so a log that started being written again
is never deleted under the writer.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from steadyops.actions import Action, ActionContext
from steadyops.errors import Refused
from steadyops.inventory import Target
from steadyops.models import Approval, Outcome, Plan, Risk, Step
from steadyops.remediation import archive
from steadyops.remediation.allowlist import AllowList


class CleanLogsParams(BaseModel):
    paths: list[str] = Field(min_length=1, description="directories to scan (must be allow-listed)")
    globs: list[str] = Field(default_factory=lambda: ["*.log", "*.log.*", "*.out"], min_length=1)
    older_than_days: float = Field(default=7.0, ge=0)
    mode: Literal["archive", "compress"] = "archive"
    recursive: bool = True
    max_files: int = Field(default=10_000, ge=1)

    @field_validator("paths", "globs", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        """``paths=/var/log/app`` from a command line means a list of one."""
        return [v] if isinstance(v, str) else v


def _candidates(params: CleanLogsParams, now: float) -> list[tuple[str, int, float]]:
    cutoff = now - params.older_than_days * 86400
    found: list[tuple[str, int, float]] = []
    for root in params.paths:
        walker = os.walk(root, followlinks=False) if params.recursive else [(root, [], os.listdir(root))]
        for dirpath, _dirs, files in walker:
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                if not any(fnmatchcase(name, g) for g in params.globs):
                    continue
                if params.mode == "compress" and name.endswith(".gz"):
                    continue
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                if not os.path.isfile(path) or os.path.islink(path) or st.st_mtime > cutoff:
                    continue
                found.append((path, st.st_size, st.st_mtime))
    found.sort()
    return found[: params.max_files]


class CleanLogs(Action):
    """Free disk by archiving (then deleting) or compressing old log files under allow-listed roots."""

    name: ClassVar[str] = "host.clean_logs"
    target_kind: ClassVar[str] = "host"
    risk: ClassVar[Risk] = Risk.MEDIUM
    Params: ClassVar[type[BaseModel]] = CleanLogsParams
    verify_checks: ClassVar[tuple[str, ...]] = ("host.disk",)
    remedies: ClassVar[tuple[str, ...]] = ("host.disk", "host.inodes")
    rollback_on_failed_verify: ClassVar[bool] = False

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, CleanLogsParams)
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        for root in params.paths:
            allow.check_path(root)
            if not os.path.isdir(root):
                raise Refused(f"{root} is not a directory")
        files = _candidates(params, datetime.now(UTC).timestamp())
        total = sum(size for _p, size, _m in files)
        # Named by content, not by clock: re-planning the same files must give the same plan hash.
        stamp = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
        steps: list[Step] = []
        rollback: list[Step] = []
        if params.mode == "archive" and files:
            dest = f"{ctx.backup_dir}/clean_logs-{stamp}.tar.gz"
            steps.append(Step(description=f"archive {len(files)} files into {dest} with a SHA-256 manifest",
                              kind="archive", paths=[p for p, _s, _m in files], bytes=total, dest=dest))
            steps.append(Step(description="verify every archived file against its checksum", kind="verify"))
            steps.extend(Step(description=f"delete {p} ({size} bytes)", kind="delete", paths=[p], bytes=size,
                              mtime=mtime) for p, size, mtime in files)
            rollback.append(Step(description=f"restore the files from {dest}", kind="restore"))
        elif files:
            steps.extend(Step(description=f"gzip {p} ({size} bytes)", kind="compress", paths=[p], bytes=size,
                              mtime=mtime) for p, size, mtime in files)
            rollback.append(Step(description="gunzip the compressed files back", kind="restore"))
        effect = (f"frees about {total} bytes from {len(files)} files" if params.mode == "archive"
                  else f"compresses {len(files)} files ({total} bytes before compression)")
        return Plan(action=self.name, target=target.name, params=params.model_dump(mode="json"), risk=self.risk,
                    steps=steps, expected_effect=effect, rollback=rollback, created_at=datetime.now(UTC),
                    notes=[] if files else ["nothing to clean"])

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        deletes = [s for s in plan.steps if s.kind in ("delete", "compress")]
        if not deletes:
            return Outcome(ok=True, summary="nothing to clean")
        changed: list[str] = []
        unchanged: list[str] = []
        for step in deletes:
            path = step.paths[0]
            allow.check_path(path)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                changed.append(path)
                continue
            if st.st_size != step.bytes or st.st_mtime != step.mtime:
                changed.append(path)
            else:
                unchanged.append(path)
        freed = 0
        details: dict[str, object] = {"skipped_changed": changed}
        if deletes[0].kind == "delete":
            dest = Path(plan.steps[0].dest)
            result = archive.create(dest, unchanged)
            archive.verify(dest)
            details.update(archive=str(dest), archive_bytes=result.size, checksums=result.files)
            for path in unchanged:
                size = os.lstat(path).st_size
                os.unlink(path)
                freed += size
        else:
            compressed = []
            for path in unchanged:
                before = os.lstat(path).st_size
                with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                    shutil.copyfileobj(src, dst)
                with gzip.open(path + ".gz", "rb") as check, open(path, "rb") as orig:
                    if archive.sha256_bytes_stream(check) != archive.sha256_bytes_stream(orig):
                        os.unlink(path + ".gz")
                        raise RuntimeError(f"compressed copy of {path} does not match; original kept")
                os.unlink(path)
                freed += before - os.lstat(path + ".gz").st_size
                compressed.append(path + ".gz")
            details["compressed"] = compressed
        return Outcome(ok=True, summary=f"freed {freed} bytes from {len(unchanged)} files"
                       + (f"; skipped {len(changed)} changed since planning" if changed else ""),
                       bytes_freed=freed, details=details)

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        dest = outcome.details.get("archive")
        if isinstance(dest, str):
            restored = archive.restore(Path(dest))
            return Outcome(ok=True, summary=f"restored {len(restored)} files from {dest}")
        restored = []
        for gz in outcome.details.get("compressed", []) or []:
            original = str(gz)[:-3]
            with gzip.open(gz, "rb") as src, open(original, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.unlink(gz)
            restored.append(original)
        return Outcome(ok=True, summary=f"decompressed {len(restored)} files")
