"""A scripted four-letter-word server for unit tests, fed with answers captured from a real 3.8.

The captured answers in ``data/`` come from the Debian zookeeper 3.8.0 package (leader, follower,
standalone, not serving, whitelist refusal, AdminServer JSON), so unit tests exercise the parsers
and checks on real text without starting a JVM; ``tests/integration`` runs the real thing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
STALL = "__stall__"  # accept, read the word, never answer


def sample(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def refused(word: str) -> str:
    return f"{word} is not executed because it is not in the whitelist.\n"


class FakeZk:
    """Answers each four-letter word from ``answers`` (missing: empty answer, like an unknown word)."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = dict(answers)
        self.asked: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            word = (await reader.readexactly(4)).decode("ascii")
        except asyncio.IncompleteReadError:  # a bare connect probe
            writer.close()
            return
        self.asked.append(word)
        answer = self.answers.get(word, "")
        if answer == STALL:
            await asyncio.sleep(30)
        writer.write(answer.encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> FakeZk:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks():  # cancel stalled handlers so close() does not wait for them
            if task is not asyncio.current_task() and "_handle" in repr(task.get_coro()):
                task.cancel()
        await asyncio.sleep(0)


@pytest.fixture
def fake_zk() -> Callable[[dict[str, str]], FakeZk]:
    """``async with fake_zk({"ruok": "imok", ...}) as zk: zk.address``."""
    return FakeZk


@pytest.fixture
def standalone_answers() -> dict[str, str]:
    """A healthy standalone server as captured."""
    return {"ruok": "imok", "srvr": sample("srvr_standalone.txt"), "mntr": sample("mntr_standalone.txt"),
           "conf": sample("conf_standalone.txt"), "cons": sample("cons_leader.txt"), "envi": sample("envi.txt")}
