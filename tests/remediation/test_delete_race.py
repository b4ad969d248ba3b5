"""The symlink race against the deleting walk: a directory inside the allowed root is swapped for a
symlink to a directory outside it (``renameat2(RENAME_EXCHANGE)``, atomically, in a tight loop in
another thread) while files are deleted. Nothing outside may ever be deleted, and what the walk
reports as deleted must be exactly what disappeared."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.errors import Refused
from steadyops.execution import fsops

TRIES = 1200
RENAME_EXCHANGE = 2
AT_FDCWD = -100

_libc = ctypes.CDLL(None, use_errno=True)
if not hasattr(_libc, "renameat2"):  # pragma: no cover - glibc < 2.28
    pytest.skip("renameat2 is not available", allow_module_level=True)


def exchange(a: Path, b: Path) -> None:
    if _libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Swapper(threading.Thread):
    """Swaps ``root/sub`` (a real directory) with ``root/alt`` (a symlink to ``outside``) until stopped."""

    def __init__(self, a: Path, b: Path) -> None:
        super().__init__(daemon=True)
        self.a, self.b, self.stop, self.swaps = a, b, threading.Event(), 0

    def run(self) -> None:
        while not self.stop.is_set():
            exchange(self.a, self.b)
            self.swaps += 1


@pytest.fixture()
def swapping(tmp_path: Path) -> object:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "alt").symlink_to(outside)
    inner = os.open(root / "sub", os.O_RDONLY | os.O_DIRECTORY)  # the real directory, whatever its name now
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # let the swapper run between every step of the walk
    swapper = Swapper(root / "sub", root / "alt")
    swapper.start()
    yield root, outside, inner, swapper
    swapper.stop.set()
    swapper.join()
    sys.setswitchinterval(old)
    os.close(inner)


def _make(dir_fd: int, name: str) -> os.stat_result:
    fd = os.open(name, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600, dir_fd=dir_fd)
    os.write(fd, b"old log line\n")
    st = os.fstat(fd)
    os.close(fd)
    return st


@pytest.mark.parametrize("with_identity", [True, False], ids=["planned-identity", "path-only"])
def test_no_file_outside_the_allow_list_is_deleted_while_a_directory_is_swapped_for_a_symlink(
        swapping: tuple[Path, Path, int, Swapper], with_identity: bool) -> None:
    root, outside, inner, swapper = swapping
    fates: Counter[str] = Counter()
    escapes = mismatches = 0
    for i in range(TRIES):
        name = f"app{i}.log"
        planned = _make(inner, name)
        (outside / name).write_bytes(b"old log line\n")  # same name and size, where the symlink points
        entry: dict[str, object] = {"path": str(root / "sub" / name), "size": planned.st_size}
        if with_identity:
            entry.update(dev=planned.st_dev, ino=planned.st_ino)
        result = fsops.run({"op": "remove", "roots": [str(root)], "entries": [entry]})["results"][0]
        fates[result["done"]] += 1
        if not (outside / name).exists():
            escapes += 1
        inside_gone = not os.path.exists(f"/proc/self/fd/{inner}/{name}")
        if inside_gone != (result["done"] == "deleted"):
            mismatches += 1  # the report must say exactly what happened
        if result["done"] == "deleted" and with_identity:
            assert (result["dev"], result["ino"]) == (planned.st_dev, planned.st_ino)
        if not inside_gone:
            os.unlink(name, dir_fd=inner)
        (outside / name).unlink(missing_ok=True)
    print(f"\n{TRIES} tries, {swapper.swaps} swaps: {dict(fates)}; escapes {escapes}, report mismatches {mismatches}")
    assert escapes == 0
    assert mismatches == 0
    assert fates["deleted"] > 0 and sum(fates.values()) == TRIES


EXECUTOR_TRIES = 30


async def test_clean_logs_through_the_executor_never_escapes_and_audits_what_it_did(remediation_app: Any) -> None:
    """The whole path (plan, re-plan, archive, delete, audit) with the swapper running: every run either
    deletes planned files inside the root or is refused; the audit names exactly the files gone."""
    app = remediation_app
    root: Path = app.test_logs
    outside = root.parent / "outside"
    outside.mkdir()
    (root / "sub").mkdir()
    (root / "alt").symlink_to(outside)
    inner = os.open(root / "sub", os.O_RDONLY | os.O_DIRECTORY)
    old_switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    swapper = Swapper(root / "sub", root / "alt")
    swapper.start()
    outcomes: Counter[str] = Counter()
    try:
        for i in range(EXECUTOR_TRIES):
            name = f"race{i}.log"
            _make(inner, name)
            os.utime(name, (1e9, 1e9), dir_fd=inner)
            (outside / name).write_bytes(b"old log line\n")
            os.utime(outside / name, (1e9, 1e9))
            try:
                run = await app.executor.propose("host.clean_logs", "dev-1", {"paths": [str(root)]}, "dave")
                outcome = await app.executor.apply(run.id, "dave")
                outcomes["applied ok" if outcome.ok else "applied, refused some"] += 1
                audited = app.audit.entries()[-1].payload
                said = {Path(p).name for p in audited.get("details", {}).get("deleted", [])}
            except Refused:
                outcomes["refused"] += 1
                assert app.audit.entries()[-1].kind == "refused"
                said = set()
            assert (outside / name).exists(), f"try {i}: a file outside the allow-list was deleted"
            gone = not os.path.exists(f"/proc/self/fd/{inner}/{name}")
            assert (name in said) == gone, f"try {i}: the audit says {sorted(said)}, the disk says gone={gone}"
            if not gone:
                os.unlink(name, dir_fd=inner)
            (outside / name).unlink()
    finally:
        swapper.stop.set()
        swapper.join()
        sys.setswitchinterval(old_switch)
        os.close(inner)
    print(f"\n{EXECUTOR_TRIES} executor runs, {swapper.swaps} swaps: {dict(outcomes)}")
    assert app.audit.verify().ok
