"""Editing a serving configuration file as a remediation step: planned by content, applied atomically.

Used by actions that change where traffic goes (take a replica out of a load balancer's pool, move a
canary's weight back). The plan records the file's SHA-256; apply refuses if the file changed since
(someone else edited it — the approved plan no longer describes what would happen), copies it under
the action's backup directory, writes the new text to a temporary file beside it and renames it
over the original (readers see the old or the new file, never half of one), and rollback copies the
backup back. Paths are allow-listed by the executor before planning and checked again here.
Local files only: a remote serving config is the deploy tool's to change.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from steadyops.core.errors import Refused


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read(path: str) -> tuple[str, str]:
    """(text, sha256) of a local file; Refused naming the problem if it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror or exc}") from None
    return text, digest(text)


def check_allowed(path: str, allowed_roots: Sequence[str]) -> str:
    real = os.path.realpath(path)
    if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in allowed_roots):
        raise Refused(f"{path} is outside the allow-list")
    return real


def replace(path: str, new_text: str, expected_sha: str, backup_dir: str, allowed_roots: Sequence[str]) -> str:
    """Back the file up and atomically replace its text; returns the backup's path."""
    real = check_allowed(path, allowed_roots)
    _current, sha = read(real)
    if sha != expected_sha:
        raise Refused(f"{path} changed since the plan was made (sha256 {sha[:12]} ≠ {expected_sha[:12]}); plan again")
    os.makedirs(backup_dir, exist_ok=True)
    backup = os.path.join(backup_dir, f"{os.path.basename(real)}.{sha[:12]}.bak")
    shutil.copy2(real, backup)
    fd, tmp = tempfile.mkstemp(prefix=".steadyops-", dir=os.path.dirname(real))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_text)
        shutil.copymode(real, tmp)
        os.replace(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return backup


def restore(backup: str, path: str, allowed_roots: Sequence[str]) -> None:
    real = check_allowed(path, allowed_roots)
    shutil.copy2(backup, real)


async def run(argv: Sequence[str], allowed: Sequence[Sequence[str]], timeout: float) -> tuple[int, str]:
    """Run one allow-listed command (no shell); (exit code, combined output tail)."""
    if list(argv) not in [list(c) for c in allowed]:
        raise Refused(f"command {' '.join(argv)!r} is not allow-listed")
    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    except FileNotFoundError:
        return 127, f"{argv[0]}: command not found"
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"timed out after {timeout:g}s"
    return proc.returncode if proc.returncode is not None else -1, out.decode("utf-8", "replace")[-2000:]


__all__ = ["check_allowed", "digest", "read", "replace", "restore", "run"]
