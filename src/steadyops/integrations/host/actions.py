"""``host.clean_logs`` (磁盘清理 for application logs): archive-then-delete, or compress, old files.

The plan lists every file with its size and mtime; apply re-checks each file right before
touching it and skips any that changed since planning, so a log that started being written again
is never deleted under the writer. Every step goes through a :mod:`~steadyops.execution.shell`,
so a remote host (over SSH) is cleaned exactly like this one: the allow-list is judged on the
target's own realpaths, the archive is written and verified *on the target* (under the backup
dir), and the rollback restores from it there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from steadyops.contracts.actions import Action, ActionContext
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Approval, Outcome, Plan, Risk, Step
from steadyops.execution.errors import ShellError
from steadyops.execution.shell import Guard, Shell, shell_for, shell_for_plan
from steadyops.execution.where import EXEC_KEY, exec_record
from steadyops.integrations.host.base import UsesHost
from steadyops.remediation import deletion


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


async def _candidates(sh: Shell, params: CleanLogsParams, roots: Sequence[str]) -> list[tuple[str, int, float]]:
    """Regular files (never symlinks) under the roots, on this filesystem, old enough and matching a glob."""
    found: set[tuple[str, int, float]] = set()
    for root in roots:
        found.update(await sh.list_files(root, params.globs, params.older_than_days * 86400, params.recursive))
    if params.mode == "compress":
        found = {f for f in found if not f[0].endswith(".gz")}
    return sorted(found)[: params.max_files]


async def _unchanged(sh: Shell, guard: Guard, steps: Sequence[Step]) -> tuple[list[str], list[str]]:
    """Files still exactly as planned (a regular file, same size and mtime) and those that are not."""
    paths = [s.paths[0] for s in steps]
    await guard.check(paths)
    now = await sh.stats(paths)
    same = {s.paths[0] for s in steps if (st := now[s.paths[0]]) is not None and st.same_file(s.bytes, s.mtime)}
    return [p for p in paths if p in same], [p for p in paths if p not in same]


async def _gzip(sh: Shell, guard: Guard, step: Step) -> tuple[int, deletion.Removal]:
    """gzip beside the original, compare the two byte for byte on the host (zcmp), then delete the original
    (the planned object, through :mod:`~steadyops.remediation.deletion`): ``(compressed size, removal)``."""
    path = step.paths[0]
    await sh.call(["gzip", "-k", "--", path])
    if (await sh.run(["zcmp", "--", path + ".gz", path], sh.timeout)).rc != 0:
        await deletion.remove_entries(sh, guard, [{"path": path + ".gz"}])
        raise ShellError(f"compressed copy of {path} on {sh.where} does not match; original kept")
    removal = await deletion.remove(sh, guard, [step])
    if not removal.deleted:  # the original stays: so must not a second copy of it
        await deletion.remove_entries(sh, guard, [{"path": path + ".gz"}])
        return 0, removal
    st = await sh.stat(path + ".gz")
    return (st.size if st else 0), removal


def _identity(ids: dict[str, deletion.Identity | None], path: str) -> dict[str, int]:
    found = ids.get(path)
    return {"dev": found.dev, "ino": found.ino} if found else {}


class CleanLogs(UsesHost, Action):
    """Free disk by archiving (then deleting) or compressing old log files under allow-listed roots."""

    name: ClassVar[str] = "host.clean_logs"
    target_kind: ClassVar[str] = "host"
    risk: ClassVar[Risk] = Risk.MEDIUM
    Params: ClassVar[type[BaseModel]] = CleanLogsParams
    verify_checks: ClassVar[tuple[str, ...]] = ("host.disk",)
    remedies: ClassVar[tuple[str, ...]] = ("host.disk", "host.inodes")
    remedies_layers: ClassVar[tuple[str, ...]] = ("disk",)  # only on disk evidence
    rollback_on_failed_verify: ClassVar[bool] = False

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, CleanLogsParams)
        record = exec_record(target)
        # read-only verbs only: realpath, find, date, lstat
        async with shell_for(record, ctx.timeout, logins=self.memory.logins) as sh:
            guard = Guard(sh, ctx.allowed_paths)
            reals = await guard.check(params.paths)
            kinds = await sh.stats(list(reals.values()))
            for root, real in reals.items():
                if getattr(kinds[real], "kind", None) != "d":
                    raise Refused(f"{root} is not a directory" + (f" on {sh.where}" if sh.remote else ""))
            files = await _candidates(sh, params, list(dict.fromkeys(reals.values())))
            ids = await deletion.identify(sh, guard, [p for p, _s, _m in files])
            files = [f for f in files if ids.get(f[0]) is not None]  # a file that just became something else
            where = sh.where
        total = sum(size for _p, size, _m in files)
        # Named by content, not by clock: re-planning the same files must give the same plan hash.
        stamp = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
        steps: list[Step] = []
        rollback: list[Step] = []
        if params.mode == "archive" and files:
            dest = f"{ctx.backup_dir}/clean_logs-{stamp}.tar.gz"
            steps.append(Step(description=f"archive {len(files)} files into {dest} on {where} (the archive stays on "
                              "the target host) with a SHA-256 manifest", kind="archive",
                              paths=[p for p, _s, _m in files], bytes=total, dest=dest))
            steps.append(Step(description="verify every archived file against its checksum", kind="verify"))
            steps.extend(Step(description=f"delete {p} ({size} bytes)", kind="delete", paths=[p], bytes=size,
                              mtime=mtime, **_identity(ids, p)) for p, size, mtime in files)
            rollback.append(Step(description=f"restore the files from {dest} on {where}", kind="restore"))
        elif files:
            steps.extend(Step(description=f"gzip {p} ({size} bytes)", kind="compress", paths=[p], bytes=size,
                              mtime=mtime, **_identity(ids, p)) for p, size, mtime in files)
            rollback.append(Step(description="gunzip the compressed files back", kind="restore"))
        effect = (f"frees about {total} bytes from {len(files)} files" if params.mode == "archive"
                  else f"compresses {len(files)} files ({total} bytes before compression)")
        return Plan(action=self.name, target=target.name, params={**params.model_dump(mode="json"), EXEC_KEY: record},
                    risk=self.risk, steps=steps, expected_effect=effect, rollback=rollback,
                    created_at=datetime.now(UTC), notes=[f"runs on {where}"] + ([] if files else ["nothing to clean"]))

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        deletes = [s for s in plan.steps if s.kind in ("delete", "compress")]
        if not deletes:
            return Outcome(ok=True, summary="nothing to clean")
        planned = {s.paths[0]: s for s in deletes}
        async with shell_for_plan(plan, ctx.timeout, logins=self.memory.logins) as sh:
            guard = Guard(sh, ctx.allowed_paths)
            unchanged, changed = await _unchanged(sh, guard, deletes)
            details: dict[str, object] = {"skipped_changed": changed, "where": sh.where}
            if not unchanged:
                return Outcome(ok=True, summary=f"nothing cleaned: all {len(changed)} files changed since planning",
                               details=details)
            freed = 0
            if deletes[0].kind == "delete":
                dest = plan.steps[0].dest
                sums, size = await sh.archive(dest, unchanged)
                if await sh.verify_archive(dest) != sums:
                    raise ShellError(f"{dest}: the manifest differs from the files archived; nothing deleted")
                details.update(archive=dest, archive_bytes=size, checksums=sums)
                # Archiving took a while: a file written to since then is kept (its archived copy is stale).
                unchanged, moved = await _unchanged(sh, guard, [planned[p] for p in unchanged])
                changed.extend(moved)
                removal = await deletion.remove(sh, guard, [planned[p] for p in unchanged])
                freed = sum(planned[p].bytes for p in removal.deleted)
            else:
                compressed, removal = [], deletion.Removal()
                for path in unchanged:
                    size, one = await _gzip(sh, guard, planned[path])
                    removal.results += one.results
                    if one.deleted:
                        freed += planned[path].bytes - size
                        compressed.append(path + ".gz")
                details["compressed"] = compressed
            details.update(removal.details())
        problems = removal.summary()
        return Outcome(ok=not removal.refused, summary=f"freed {freed} bytes from {len(removal.deleted)} files"
                       + (f"; skipped {len(changed)} changed since planning" if changed else "")
                       + (f"; {problems}" if problems else ""), bytes_freed=freed, details=details)

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        """Put back what apply took, on the host it took it from; never to a path outside the allow-list."""
        planned = {s.paths[0] for s in plan.steps if s.kind in ("delete", "compress")}
        async with shell_for_plan(plan, ctx.timeout, logins=self.memory.logins) as sh:
            guard = Guard(sh, ctx.allowed_paths)
            dest = outcome.details.get("archive")
            if isinstance(dest, str):
                sums = await sh.verify_archive(dest)
                strangers = sorted(set(sums) - planned)
                if strangers:
                    raise Refused(f"{dest} holds files this plan never deleted ({strangers[0]} …); not restoring")
                await guard.check(list(sums))
                restored = await sh.restore(dest)
                return Outcome(ok=True, summary=f"restored {len(restored)} files from {dest}")
            gzs = [str(gz) for gz in outcome.details.get("compressed", []) or [] if str(gz)[:-3] in planned]
            await guard.check(gzs)
            for gz in gzs:
                await sh.call(["gzip", "-d", "-k", "--", gz])
                await deletion.remove_entries(sh, guard, [{"path": gz}])
        return Outcome(ok=True, summary=f"decompressed {len(gzs)} files")
