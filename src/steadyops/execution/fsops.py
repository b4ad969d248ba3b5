"""Race-free file deletion: every step through directory file descriptors, no symlink ever followed.

Why a module of its own, standard library only: the very same source runs in-process for this host
and, sent as ``python3 -c`` over SSH, on a remote one (:meth:`steadyops.execution.shell.Shell.fs`),
so local and remote deletions share one walk. ``realpath`` then ``rm`` as separate processes leaves a
window in which a directory inside the allowed root can be swapped for a symlink to ``/etc``; here
the allowed root is opened component by component with ``O_NOFOLLOW``, each directory below it is
opened *relative to its parent's descriptor* (``O_DIRECTORY | O_NOFOLLOW``), the file is ``lstat``-ed
through the same descriptor and must still be the planned object — ``(st_dev, st_ino)``, size and
mtime — before ``unlink(name, dir_fd=…)``. A swap can then only make the walk fail (refused, reported)
and never make it leave the root. Every file gets a result, failures included, so the caller audits
what was really done rather than what it meant to do.

Request (JSON on stdin for the remote program): ``{"op": "identify" | "remove", "roots": [...],
"entries": [{"path", "dev"?, "ino"?, "size"?, "mtime"?}]}``; the answer is ``{"results": [...]}``.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from typing import Any

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
DELETED, SKIPPED, REFUSED = "deleted", "skipped", "refused"


class Refusal(Exception):
    """The walk would leave the allowed root (a symlink, another filesystem, a path outside it)."""


def _parts(path: str) -> list[str]:
    if not path.startswith("/"):
        raise Refusal("path is not absolute")
    parts = path.split("/")[1:]
    if any(p in ("", ".", "..") for p in parts) and path != "/":
        raise Refusal("path is not normalised (empty, '.' or '..' component)")
    return [p for p in parts if p]


def _open_dir(parent: int | None, name: str) -> int:
    """One directory below ``parent`` (``None``: the filesystem root), never through a symlink."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent) if parent is not None else os.open("/", _DIR_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise Refusal(f"{name!r} is not a directory here (a symlink?); not followed") from None
        raise


def _open_root(root: str) -> int:
    """The allowed root itself, component by component from ``/``: a symlink anywhere in it is refused."""
    fd = _open_dir(None, "/")
    try:
        for part in _parts(root):
            nxt = _open_dir(fd, part)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


class Walker:
    """Opens the directory holding a path, below the longest allowed root that contains it."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = sorted({r.rstrip("/") or "/" for r in roots}, key=len, reverse=True)
        self._fds: dict[str, int] = {}

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def locate(self, path: str) -> tuple[int, str]:
        """``(dir_fd, name)`` for ``path``; the caller closes ``dir_fd``. Refusal if it is not under a root."""
        parts = _parts(path)
        for root in self.roots:
            base = _parts(root)
            if len(parts) > len(base) and parts[: len(base)] == base:
                break
        else:
            raise Refusal("outside the allow-list")
        if root not in self._fds:
            self._fds[root] = _open_root(root)
        root_fd = self._fds[root]
        root_dev = os.fstat(root_fd).st_dev
        fd = os.dup(root_fd)
        try:
            for part in parts[len(base):-1]:
                nxt = _open_dir(fd, part)
                os.close(fd)
                fd = nxt
                if os.fstat(fd).st_dev != root_dev:
                    raise Refusal(f"{part!r} is on another filesystem; not crossed")
        except BaseException:
            os.close(fd)
            raise
        return fd, parts[-1]


def _kind(mode: int) -> str:
    return "f" if stat.S_ISREG(mode) else "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else "o"


def _facts(st: os.stat_result) -> dict[str, Any]:
    return {"kind": _kind(st.st_mode), "dev": st.st_dev, "ino": st.st_ino, "size": st.st_size,
            "mtime": st.st_mtime_ns / 1e9}


def _mismatch(entry: dict[str, Any], st: os.stat_result) -> str:
    """Why the object found is not the one planned ('' when it is)."""
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file now ({_kind(st.st_mode)})"
    for key, now in (("dev", st.st_dev), ("ino", st.st_ino), ("size", st.st_size)):
        if entry.get(key) is not None and int(entry[key]) != now:
            return f"{key} changed since planning ({entry[key]} → {now})"
    if entry.get("mtime") is not None and abs(float(entry["mtime"]) - st.st_mtime_ns / 1e9) >= 1e-6:
        return "mtime changed since planning"
    return ""


def _one(walker: Walker, op: str, entry: dict[str, Any]) -> dict[str, Any]:
    path = str(entry["path"])
    result: dict[str, Any] = {"path": path}
    try:
        fd, name = walker.locate(path)
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            result.update(_facts(st))
            if op == "identify":
                return result
            why = _mismatch(entry, st)
            if why:
                result.update(done=SKIPPED, reason=why)
                return result
            os.unlink(name, dir_fd=fd)
            result["done"] = DELETED
        finally:
            os.close(fd)
    except Refusal as exc:
        result.update(done=REFUSED, reason=str(exc))
    except FileNotFoundError:
        result.update(done=SKIPPED, reason="vanished since planning")
    except OSError as exc:
        result.update(done=REFUSED, reason=f"{exc.strerror or exc} (errno {exc.errno})")
    return result


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Carry out one request (see the module docstring); never raises for a per-file problem."""
    op = request.get("op")
    if op not in ("identify", "remove"):
        raise ValueError(f"unknown op {op!r}")
    walker = Walker([str(r) for r in request.get("roots", [])])
    try:
        return {"results": [_one(walker, str(op), dict(e)) for e in request.get("entries", [])]}
    finally:
        walker.close()


def main() -> None:
    json.dump(run(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
