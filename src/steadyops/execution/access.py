"""Read-only access to a host for inspection: :class:`LocalHost` (this machine) or ``SshHost`` (:mod:`.ssh`).

Both offer the same two verbs — run an allow-listed read-only command, read an allow-listed file —
so every check is written once and the same parsers judge a local and a remote host. Inspection
must never change a system, so the verbs refuse anything outside the :class:`Reads` the
integration declared (exact argv, exact paths) even if a caller asks; this also keeps a compromised
inventory from turning an inspection into remote code execution. Actions mutate only through :mod:`.shell`.

Which one a target gets is :func:`steadyops.execution.where.host_for`'s answer, the same one the
remediation shell gets. Failures to reach the host are raised as :class:`HostAccessError`
(:mod:`.errors`), which carries the verdict the check should give and the layer to localise it to.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from steadyops.core.models import Evidence
from steadyops.execution.errors import HostAccessError

__all__ = [
    "SSH_PORT",
    "CommandResult",
    "HostAccess",
    "LocalHost",
    "Reads",
    "trim",
]

@dataclass(frozen=True)
class Reads:
    """What an inspection may run and read on a host: exact argv, exact paths — nothing else.

    Each integration declares its own (the host checks theirs, the GPU checks ``nvidia-smi``) and
    passes it to :func:`steadyops.execution.where.host_for`; reviewing that list is reviewing
    everything the integration can do to a host while inspecting it.
    """

    commands: frozenset[tuple[str, ...]] = frozenset()
    files: frozenset[str] = frozenset()


COMMAND_TIMEOUT = 8.0
EVIDENCE_CHARS = 800

SSH_PORT = 22  # when neither the address nor the label ssh_port names one


def trim(text: str, limit: int = EVIDENCE_CHARS) -> str:
    """Evidence must stay readable in a chat message: keep the head and say how much was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n… ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class CommandResult:
    """What one command printed, where it ran, and how it ended (127 = not installed)."""

    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    where: str
    #: wall-clock time around the command itself (not the SSH login), for the clock check
    started: float = 0.0
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def missing(self) -> bool:
        """The command does not exist on that host (shell's 127, or exec's ENOENT locally)."""
        return self.rc == 127 or "command not found" in self.stderr

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def evidence(self, detail: str | None = None) -> Evidence:
        text = detail if detail is not None else (self.stdout if self.ok else f"exit {self.rc}: {self.stderr}")
        return Evidence(source=f"{self.command} @ {self.where}", detail=trim(text))

    def describe_failure(self) -> str:
        if self.missing:
            return f"`{self.argv[0]}` is not available on {self.where}"
        first = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return f"`{self.command}` failed on {self.where} (exit {self.rc}: {first[0] if first else 'no output'})"


class HostAccess(ABC):
    """Run allow-listed commands and read allow-listed files on one host (:attr:`reads`: the caller's list)."""

    #: shown in evidence: "local" or "user@host:port"
    where: str = "local"
    remote: bool = False
    #: what this access may run and read; nothing unless the integration that asked for it says
    reads: Reads = Reads()

    async def run(self, *argv: str) -> CommandResult:
        if tuple(argv) not in self.reads.commands:
            raise PermissionError(f"command not allow-listed for inspection: {shlex.join(argv)}")
        return await self._exec(tuple(argv))

    async def read(self, path: str) -> str:
        """The file's text, or :class:`HostAccessError` (layer host) when it cannot be read."""
        if path not in self.reads.files:
            raise PermissionError(f"file not allow-listed for inspection: {path}")
        return await self._read(path)

    @abstractmethod
    async def _exec(self, argv: tuple[str, ...]) -> CommandResult: ...

    @abstractmethod
    async def _read(self, path: str) -> str: ...


class LocalHost(HostAccess):
    """This machine: files read directly, commands as subprocesses with ``LC_ALL=C`` and a timeout."""

    where = "local"
    remote = False

    def __init__(self, reads: Reads, timeout: float = COMMAND_TIMEOUT) -> None:
        self.reads = reads
        self.timeout = timeout

    async def _exec(self, argv: tuple[str, ...]) -> CommandResult:
        env = {**os.environ, "LC_ALL": "C"}
        started = time.time()
        try:
            proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.PIPE, env=env)
        except FileNotFoundError:
            return CommandResult(argv, 127, "", f"{argv[0]}: command not found", self.where)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise HostAccessError(f"`{shlex.join(argv)}` did not finish within {self.timeout:g}s on this host",
                                  layer="host", source=shlex.join(argv)) from None
        return CommandResult(argv, proc.returncode if proc.returncode is not None else -1,
                             out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), self.where,
                             started, time.time())

    async def _read(self, path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError as exc:
            raise HostAccessError(f"cannot read {path} on this host: {exc.strerror or exc}", layer="host",
                                  source=f"read {path}") from exc
