"""Where an action's steps run: this machine (:class:`LocalShell`) or a target over SSH (:class:`SshShell`).

``HostAccess`` (inspection) is read-only by construction and must stay unable to delete a file even
when asked; actions mutate, after plan, approval and audit, only through here. Each verb is a few
``run(argv)`` calls to GNU tools, so local and remote targets run the same command lines (unit tests
exercise them locally; a local archive keeps :mod:`.archive`). Remote argv is one ``shlex.join``-ed
line (``x; rm -rf /`` stays one word), path lists go NUL-separated on stdin, symlinks are never
followed, and :class:`Guard` judges the allow-list on the realpath *of the target host*. The SSH
login and known-hosts policy are :mod:`.ssh`'s, the same as inspection's: a changed or unknown host
key is refused exactly as for an inspection, as :class:`Refused`, which the executor audits.
Where a plan runs (:func:`.where.exec_record`) is in its params, so its hash — and approval — covers it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import posixpath
import shlex
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from steadyops.core.errors import MissingExtra, Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Plan
from steadyops.execution import archive, fsops
from steadyops.execution.errors import HostAccessError, ShellError
from steadyops.execution.logins import Logins
from steadyops.execution.where import EXEC_KEY, exec_record

if TYPE_CHECKING:
    import asyncssh

FSOPS_SOURCE = Path(fsops.__file__).read_text(encoding="utf-8")  #: what :meth:`Shell.fs` runs remotely
FIND_FORMAT = "%y\t%s\t%T@\t%p\\0"  # type, size, mtime, then the path (so tabs in it are harmless), NUL-ended


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    rc: int
    stdout: bytes
    stderr: bytes
    seconds: float = 0.0
    timed_out: bool = False

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).decode("utf-8", "replace")


class Stat(NamedTuple):
    kind: str  # find's %y: "f" regular file, "d" directory, "l" symlink, …
    size: int
    mtime: float

    def same_file(self, size: int, mtime: float | None) -> bool:
        """Still the regular file planned; mtimes to the µs, as a float from another stat may differ by an ulp."""
        return self.kind == "f" and self.size == size and mtime is not None and abs(self.mtime - mtime) < 1e-6


def remote_command(argv: Sequence[str]) -> str:
    """The one command line sent over SSH: every argument quoted, nothing interpolated."""
    if not argv:
        raise ValueError("empty command")
    return shlex.join(argv)


def nul_list(paths: Sequence[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)


def parse_find(out: bytes) -> dict[str, Stat]:
    """``find -printf FIND_FORMAT`` output → ``{path: Stat}``."""
    found: dict[str, Stat] = {}
    for record in out.split(b"\0"):
        if record:
            kind, size, mtime, path = record.split(b"\t", 3)
            found[os.fsdecode(path)] = Stat(kind.decode(), int(size), float(mtime))
    return found


def parse_sha256sum(out: bytes) -> list[str]:
    """Digests in order (sha256sum prefixes ``\\`` to a line whose name it had to escape)."""
    digests = [line.lstrip(b"\\")[:64].decode("ascii", "replace") for line in out.split(b"\n") if line]
    if any(len(d) != 64 or d.strip("0123456789abcdef") for d in digests):
        raise ShellError(f"unexpected sha256sum output: {out[:200]!r}")
    return digests


def check_manifest(dest: str, manifest: dict[str, str], names: Sequence[str], digests: Sequence[str]) -> dict[str, str]:
    """The members (in order) and their re-computed digests must be exactly the manifest, else ValueError."""
    if len(names) != len(digests):
        raise ValueError(f"{dest}: {len(names)} members but {len(digests)} regular files")
    seen = {"/" + n: d for n, d in zip(names, digests, strict=True) if n != archive.MANIFEST}
    for p in sorted(p for p in set(manifest) | set(seen) if seen.get(p) != manifest.get(p)):
        why = "missing from archive" if p not in seen else "is not in the manifest" if p not in manifest else \
            "does not match its checksum"
        raise ValueError(f"{dest}: {p} {why}")
    return dict(manifest)


class Shell:
    """The verbs an action may use on its target, each one or a few ``run`` calls (the protocol)."""

    where: str = "this host"
    remote: bool = False

    def __init__(self, timeout: float = 300.0) -> None:
        self.timeout = timeout

    async def run(self, argv: Sequence[str], timeout: float, input: bytes | None = None) -> Completed:
        """Run one command (no shell), until it exits or ``timeout``; its output, exit status, duration."""
        return await self._exec(argv, timeout, input)

    async def _exec(self, argv: Sequence[str], timeout: float, input: bytes | None = None) -> Completed:
        raise NotImplementedError

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, argv: Sequence[str], input: bytes | None = None, accept: tuple[int, ...] = (0,)) -> Completed:
        """A helper command (``LC_ALL=C``, parseable output) whose failure stops the step: ShellError."""
        done = await self._exec(["env", "LC_ALL=C", *argv], self.timeout, input)
        if done.rc not in accept:
            why = "timed out" if done.timed_out else f"exit {done.rc}"
            raise ShellError(f"`{shlex.join(argv)}` failed on {self.where} ({why}): {done.output.strip()[-500:]}")
        return done

    async def list_files(self, root: str, globs: Sequence[str], older_than_s: float | None,
                         recursive: bool) -> list[tuple[str, int, float]]:
        """Regular files under ``root`` (this filesystem only) matching a glob and older than the host's now."""
        if not root.startswith("/"):  # find takes no ``--``: a root that is not absolute could be an option
            raise Refused(f"path {root!r} is not absolute")
        names = [w for g in globs for w in ("-o", "-name", g)][1:]
        depth = [] if recursive else ["-maxdepth", "1"]
        found = parse_find((await self.call(["find", root, "-xdev", *depth, "-type", "f", "(", *names, ")",
                                            "-printf", FIND_FORMAT], accept=(0, 1))).stdout)  # 1: a file vanished
        # the host's clock judges its files' age
        cutoff = None if older_than_s is None else float((await self.call(["date", "+%s.%N"])).stdout) - older_than_s
        return sorted((p, s.size, s.mtime) for p, s in found.items() if (cutoff is None or s.mtime <= cutoff)
                      and any(fnmatchcase(posixpath.basename(p), g) for g in globs))  # find's -name, Python's glob

    async def realpaths(self, paths: Sequence[str]) -> dict[str, str]:
        """``realpath -m`` on the host, in order: symlinks resolved even where the path (a file to restore)
        does not exist yet; existence is :meth:`stats`' business. ``-e`` would drop absent paths silently."""
        done = await self.call(["xargs", "-0", "-r", "realpath", "-m", "-z", "--"], nul_list(paths))
        reals = [os.fsdecode(r) for r in done.stdout.split(b"\0")[:-1]]
        return dict(zip(paths, reals, strict=True))  # one answer per path, or ValueError

    async def stats(self, paths: Sequence[str]) -> dict[str, Stat | None]:
        """lstat on the host (a symlink is reported as one, never followed); ``None`` for what is absent."""
        script = 'exec find "$@" -maxdepth 0 -printf "$0"'  # a constant: the paths arrive as "$@", never parsed
        found = parse_find((await self.call(["xargs", "-0", "-r", "sh", "-c", script, FIND_FORMAT],  # 123: absent
                                            nul_list([p for p in paths if p.startswith("/")]), accept=(0, 123))).stdout)
        return {p: found.get(p) for p in paths}

    async def stat(self, path: str) -> Stat | None:
        return (await self.stats([path]))[path]

    async def sha256(self, path: str) -> str:
        return parse_sha256sum((await self.call(["sha256sum", "--", path])).stdout)[0]

    async def archive(self, dest: str, files: Sequence[str]) -> tuple[dict[str, str], int]:
        """:mod:`.archive`'s format, made with tar on the host: hash, write the manifest, tar (pax keeps ns
        mtimes), fsync, link into place (never overwrites). ``({path: sha256}, archive bytes)``."""
        parent, listing = posixpath.dirname(dest), nul_list(files)
        await self.call(["mkdir", "-p", "-m", "700", "--", parent])
        digests = parse_sha256sum((await self.call(["xargs", "-0", "-r", "sha256sum", "--"], listing)).stdout)
        sums = dict(zip(files, digests, strict=True))  # one digest per file, or ValueError
        staging = (await self.call(["mktemp", "-d", "-p", parent, ".manifest.XXXXXX"])).stdout.decode().strip()
        partial = dest + ".partial"
        try:
            await self.call(["tee", "--", f"{staging}/{archive.MANIFEST}"],
                           json.dumps(sums, indent=1, sort_keys=True).encode())
            await self.call(["tar", "-czf", partial, "--format=posix", "--no-recursion", "--hard-dereference", "--null",
                            "--verbatim-files-from", "-T", "-", "-C", staging, "--", archive.MANIFEST], listing)
            await self.call(["sync", "--", partial])
            await self.call(["ln", "-T", "--", partial, dest])  # fails if dest exists: an archive is never replaced
        finally:
            await self._exec(["rm", "-r", "-f", "--", staging, partial], self.timeout)
        st = await self.stat(dest)
        return sums, st.size if st else 0

    async def verify_archive(self, dest: str) -> dict[str, str]:
        """Re-read on the host: every member piped through sha256sum and compared with the manifest."""
        manifest = json.loads((await self.call(["tar", "-xzOf", dest, "--", archive.MANIFEST])).stdout)
        listing = (await self.call(["tar", "-tzf", dest, "--quoting-style=escape"])).stdout  # \n, \\, octal
        names = [os.fsdecode(codecs.escape_decode(n)[0]) for n in listing.split(b"\n") if n]
        digests = parse_sha256sum((await self.call(["tar", "-xzf", dest, "--to-command=sha256sum"])).stdout)
        return check_manifest(dest, manifest, names, digests)

    async def restore(self, dest: str) -> list[str]:
        """Verified first; only files absent now come back (``--skip-old-files``), mtimes included."""
        missing = [p for p, st in (await self.stats(list(await self.verify_archive(dest)))).items() if st is None]
        if missing:
            await self.call(["tar", "-xzf", dest, "-C", "/", "--skip-old-files", "--no-recursion", "--null",
                            "--verbatim-files-from", "-T", "-"], nul_list([p.lstrip("/") for p in missing]))
        return missing

    async def fs(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """:mod:`.fsops` on the host (the one deleting verb): its source as ``python3 -c``, the request on stdin.
        No python3 there means no race-free walk, so nothing is deleted: Refused, which the executor audits."""
        done = await self._exec(["env", "LC_ALL=C", "python3", "-c", FSOPS_SOURCE], self.timeout,
                                json.dumps(request).encode())
        if done.rc == 127:
            raise Refused(f"python3 is not available on {self.where}: files are only deleted there through the "
                          "race-free directory walk it runs; nothing deleted")
        if done.rc != 0:
            raise ShellError(f"the file walk failed on {self.where} (exit {done.rc}): {done.output.strip()[-500:]}")
        results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
        return results


class LocalShell(Shell):
    """This machine: commands as subprocesses; the archive through the local Python code (:mod:`.archive`)."""

    async def _exec(self, argv: Sequence[str], timeout: float, input: bytes | None = None) -> Completed:
        """No shell; its own process group, killed whole on timeout. Output goes to a file, not a pipe:
        a daemon the command starts keeps a pipe open, and we would wait for the daemon to exit."""
        started = time.monotonic()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL if input is None else asyncio.subprocess.PIPE,
                    stdout=out, stderr=err, start_new_session=True)
            except OSError as exc:
                return Completed(tuple(argv), 127, f"{argv[0]}: {exc.strerror or exc}".encode(), b"")
            timed_out = False
            try:
                await asyncio.wait_for(proc.communicate(input), timeout)  # output is in the files, not returned
                code = await proc.wait()
            except (TimeoutError, asyncio.CancelledError) as exc:  # ours, or the executor's: leave nothing behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                timed_out, code = True, await proc.wait()
            stdout, stderr = (f.read() for f in (out, err) if f.seek(0) == 0)
        return Completed(tuple(argv), code, stdout, stderr, round(time.monotonic() - started, 3), timed_out)

    async def archive(self, dest: str, files: Sequence[str]) -> tuple[dict[str, str], int]:
        result = await asyncio.to_thread(archive.create, Path(dest), list(files))
        return result.files, result.size

    async def verify_archive(self, dest: str) -> dict[str, str]:
        return await asyncio.to_thread(archive.verify, Path(dest))

    async def restore(self, dest: str) -> list[str]:
        return await asyncio.to_thread(archive.restore, Path(dest))

    async def fs(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = (await asyncio.to_thread(fsops.run, request))["results"]
        return results


class SshShell(Shell):
    """A target over SSH: one login for the life of the shell (``async with``); GNU userland assumed."""

    remote = True

    def __init__(self, target: Target, timeout: float, logins: Logins) -> None:
        try:
            from steadyops.execution.ssh import SshSpec, open_connection  # asyncssh only when a target needs it
        except MissingExtra as exc:
            raise Refused(f"cannot run on {target.name} over SSH: {exc}") from None

        self._open = open_connection
        self.settings = logins.settings
        try:
            self.spec = SshSpec.from_target(target, logins.settings)
        except HostAccessError as exc:
            raise Refused(f"cannot run on {target.name}: {exc.message}") from None
        super().__init__(timeout)
        self.where = self.spec.where
        self._conn: asyncssh.SSHClientConnection | None = None

    async def run(self, argv: Sequence[str], timeout: float, input: bytes | None = None) -> Completed:
        """As locally: output to a file (on the host), not the channel, which a daemon the command starts would
        hold open (and die of a broken pipe once we close it); on timeout ``timeout`` kills its process group."""
        if input is not None:
            return await self._exec(argv, timeout, input)
        tmp = (await self.call(["mktemp"])).stdout.decode().strip()
        try:
            done = await self._exec(["sh", "-c", 'exec "$@" </dev/null >"$0" 2>&1', tmp,
                                     "timeout", "-k", "1", f"{timeout:g}", *argv], timeout + 5)
            output = (await self.call(["cat", "--", tmp])).stdout
        finally:
            await self._exec(["rm", "-f", "--", tmp], self.timeout)
        return Completed(tuple(argv), done.rc, output, done.stderr, done.seconds, done.timed_out or done.rc == 124)

    async def _exec(self, argv: Sequence[str], timeout: float, input: bytes | None = None) -> Completed:
        """Until the command *exits*, not until its pipes close (something it started may hold them)."""
        if self._conn is None or self._conn.is_closed():  # log in on first use: plan() of a refusal never does
            try:
                self._conn = await self._open(self.spec, self.settings)
            except HostAccessError as exc:
                raise Refused(f"cannot run on {self.where}: {exc.message}") from None
        started = time.monotonic()
        proc: asyncssh.SSHClientProcess[bytes] = await self._conn.create_process(remote_command(argv), encoding=None)
        out, err = bytearray(), bytearray()

        async def drain(stream: asyncssh.SSHReader[bytes], buf: bytearray) -> None:
            while chunk := await stream.read(65536):
                buf.extend(chunk)

        readers = [asyncio.ensure_future(drain(proc.stdout, out)), asyncio.ensure_future(drain(proc.stderr, err))]
        closed = asyncio.ensure_future(proc.wait_closed())  # the channel went away (e.g. the connection)
        timed_out = False
        try:
            if input:
                proc.stdin.write(input)
            proc.stdin.write_eof()
            while proc.returncode is None and not closed.done():  # asyncssh has no "exited" event
                if time.monotonic() - started > timeout:
                    timed_out = True
                    with contextlib.suppress(Exception):
                        proc.kill()  # best effort: sshd may ignore signal requests; the channel closes anyway
                    break
                await asyncio.sleep(0.01)
            await asyncio.wait(readers, timeout=1.0)  # the rest of its output; a daemon it started may hold the pipe
        finally:
            for r in (*readers, closed):
                r.cancel()
            proc.close()
        rc = proc.returncode if proc.returncode is not None else -1
        return Completed(tuple(argv), rc, bytes(out), bytes(err), round(time.monotonic() - started, 3), timed_out)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()
            self._conn = None


class Guard:
    """The allow-list judged on the host the shell reaches: roots and paths are resolved *there*."""

    def __init__(self, shell: Shell, roots: Sequence[str]) -> None:
        self.shell, self.roots = shell, list(roots)
        self._real: list[str] | None = None

    async def real_roots(self) -> list[str]:
        """The allowed roots as realpaths on the host: where :mod:`.fsops` starts its walks."""
        await self.check([])
        return list(self._real or [])

    async def check(self, paths: Sequence[str]) -> dict[str, str]:
        """``{path: realpath on the host}``; Refused if any is, or resolves to, outside the roots."""
        on = f" on {self.shell.where}" if self.shell.remote else ""
        for p in paths:
            if not p.startswith("/") or ".." in PurePosixPath(p).parts:
                raise Refused(f"path {p!r} " + ("contains '..'" if p.startswith("/") else "is not absolute"))
        if self._real is None:
            self._real = list((await self.shell.realpaths(self.roots)).values()) if self.roots else []
        reals = await self.shell.realpaths(paths) if paths else {}
        for p, real in reals.items():
            if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in self._real):
                if real != posixpath.normpath(p):
                    raise Refused(f"path {p!r} resolves to {real!r}{on} (via a symlink), outside the allow-list")
                roots = ", ".join(self.roots) or "nothing allowed"
                raise Refused(f"path {p!r} is outside the allow-list{on} ({roots})")
        return reals


def shell_for(target: Target | dict[str, Any], timeout: float = 300.0, *, logins: Logins | None = None) -> Shell:
    """``LocalShell`` or ``SshShell`` for a target (by :func:`exec_record`) or for a recorded record; a
    remote one logs in with ``logins`` (the App's, see :mod:`.logins`), which it must be given."""
    record = exec_record(target) if isinstance(target, Target) else target
    if record.get("transport") == "local":
        return LocalShell(timeout)
    if record.get("transport") == "ssh":
        remote = Target(name=record["name"], kind="host", address=record["address"],
                        labels=record.get("labels", {}), credentials=record.get("credentials"))
        if logins is None:
            raise Refused(f"cannot run on {remote.name} over SSH: no SSH logins were given (the App's, through "
                          "the plugin's setup)")
        return SshShell(remote, timeout, logins)
    raise Refused(f"unknown transport in the plan: {record.get('transport')!r}")


def shell_for_plan(plan: Plan, timeout: float = 300.0, *, logins: Logins | None = None) -> Shell:
    """The shell the plan was approved for; a plan that does not say is refused, never guessed local."""
    record = plan.params.get(EXEC_KEY)
    if not isinstance(record, dict):
        raise Refused(f"the plan for {plan.target} does not say where it runs ({EXEC_KEY}); plan it again")
    return shell_for(record, timeout, logins=logins)
