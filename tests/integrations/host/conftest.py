"""Fixtures for the host integration: captured outputs, and a fake host that serves them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from steadyops.execution.access import CommandResult, HostAccess
from steadyops.execution.errors import HostAccessError
from steadyops.integrations.host.base import READS
from steadyops.integrations.host.trend import MemoryHistory

DATA = Path(__file__).parent / "data"


def data(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


class FakeHost(HostAccess):
    """Answers from captured outputs: ``files`` by path, ``commands`` by argv (text = exit 0)."""

    where = "fake-host"
    remote = True
    reads = READS  # the host integration's allow-list, as host_for would give it

    def __init__(self, files: Mapping[str, str] | None = None,
                 commands: Mapping[tuple[str, ...], str | CommandResult] | None = None) -> None:
        self.files = dict(files or {})
        self.commands = dict(commands or {})
        self.ran: list[tuple[str, ...]] = []

    async def _exec(self, argv: tuple[str, ...]) -> CommandResult:
        self.ran.append(argv)
        answer = self.commands.get(argv)
        if answer is None:
            return CommandResult(argv, 127, "", f"bash: line 1: {argv[0]}: command not found\n", self.where)
        if isinstance(answer, CommandResult):
            return answer
        return CommandResult(argv, 0, answer, "", self.where, 1000.0, 1000.01)

    async def _read(self, path: str) -> str:
        if path not in self.files:
            raise HostAccessError(f"cannot read {path} on {self.where}: No such file or directory", layer="host")
        return self.files[path]


@pytest.fixture
def history() -> MemoryHistory:
    """A fresh in-memory history for each test, handed to the checks that fit a trend."""
    return MemoryHistory()



@pytest.fixture
def sample() -> Callable[[str], str]:
    """``sample("df_PT.txt")``: a captured output from ``data/``."""
    return data


@pytest.fixture
def fake_host() -> type[FakeHost]:
    """``fake_host(files={...}, commands={...})``: a host answering from captured outputs."""
    return FakeHost
