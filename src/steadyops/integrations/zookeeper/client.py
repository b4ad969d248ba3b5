"""Ask a ZooKeeper server: four-letter words over raw TCP, the AdminServer over HTTP as a fallback.

Four-letter words need no client library and work on every version, so they are the primary
channel. Every way a question can fail is kept apart in :class:`Outcome` because each points at a
different layer: a refused connect is the process, a connect timeout the network, a connection
that is accepted but never answered a hung JVM, "not in the whitelist" the configuration (the
server is fine!), "not currently serving requests" the quorum. Checks never parse exception text.

When ``4lw.commands.whitelist`` refuses a command and the target has an ``admin_port`` label,
the same question goes to the AdminServer (``/commands/<name>``), whose JSON is normalised back to
the four-letter-word shapes by :mod:`.parse`, so checks do not care which channel answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from steadyops.contracts.checks import label_float
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import Evidence
from steadyops.sources.probing import STUCK_LISTENER, listening_here

DEFAULT_PORT = 2181
DEFAULT_TIMEOUT = 3.0
MAX_ANSWER = 1 << 20  # a 4lw answer (cons on a busy server) is small; never buffer more than 1 MiB
TRIM = 600  # evidence keeps this many characters of an answer

WHITELIST_MARK = "is not executed because it is not in the whitelist"
NOT_SERVING_MARK = "not currently serving requests"

#: four-letter word -> AdminServer command with the same facts
ADMIN_COMMANDS: dict[str, str] = {
    "ruok": "ruok", "srvr": "server_stats", "stat": "stats", "mntr": "monitor", "conf": "configuration",
    "cons": "connections", "envi": "environment",
}


class Outcome(enum.StrEnum):
    OK = "ok"
    REFUSED = "refused"  # nothing listens: the process is down
    TIMEOUT = "timeout"  # connect did not complete: network (firewall, partition)
    HOST_UNREACHABLE = "host_unreachable"  # EHOSTUNREACH: the host is down (no ARP answer)
    UNREACHABLE = "unreachable"  # no route / DNS failure: network
    STALLED = "stalled"  # connected but no answer in time: a hung or overloaded JVM
    NOT_WHITELISTED = "not_whitelisted"  # refused by 4lw.commands.whitelist: configuration
    NOT_SERVING = "not_serving"  # up but outside a quorum (LOOKING)
    EMPTY = "empty"  # closed without a word
    ERROR = "error"  # anything else (HTTP 4xx/5xx, reset …)


#: where an unanswered question points, for localisation
OUTCOME_LAYER: dict[Outcome, str] = {
    Outcome.REFUSED: "process", Outcome.TIMEOUT: "network", Outcome.HOST_UNREACHABLE: "host",
    Outcome.UNREACHABLE: "network", Outcome.STALLED: "process", Outcome.NOT_WHITELISTED: "config",
    Outcome.NOT_SERVING: "quorum", Outcome.EMPTY: "process", Outcome.ERROR: "",
}


@dataclass(frozen=True)
class Answer:
    """What one question got: the command as sent, the outcome, the raw text, and timing."""

    command: str
    address: str
    outcome: Outcome
    text: str = ""
    error: str = ""
    elapsed_ms: float = 0.0
    via: str = "4lw"
    data: dict[str, Any] = field(default_factory=dict)  # AdminServer JSON, when via == "admin"

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def layer(self) -> str:
        return OUTCOME_LAYER.get(self.outcome, "")

    def describe(self) -> str:
        """One line saying why there is no answer (or that there is one)."""
        if self.outcome is Outcome.NOT_WHITELISTED:
            return f"'{self.command}' is refused by 4lw.commands.whitelist"
        if self.outcome is Outcome.NOT_SERVING:
            return "this ZooKeeper instance is not currently serving requests (no quorum)"
        reasons = {
            Outcome.REFUSED: "connection refused: nothing listens on the port",
            Outcome.TIMEOUT: "connect timed out",
            Outcome.HOST_UNREACHABLE: "host unreachable",
            Outcome.UNREACHABLE: "network unreachable",
            Outcome.STALLED: "connected but got no answer in time (hung or overloaded JVM)",
            Outcome.EMPTY: "the server closed the connection without answering",
        }
        base = reasons.get(self.outcome, "ok" if self.ok else "error")
        return f"{base}: {self.error}" if self.error and not self.ok else base

    def evidence(self, limit: int = TRIM) -> Evidence:
        """The exact question and a trimmed answer, as a check's evidence."""
        source = f"{self.command} @ {self.address}" if self.via == "4lw" else f"AdminServer {self.command}"
        body = self.text.strip() if self.ok or self.text.strip() else self.describe()
        if len(body) > limit:
            body = body[:limit] + f"… ({len(self.text)} chars)"
        return Evidence(source=source, detail=body, value=self.outcome.value)


def classify(text: str) -> Outcome:
    if WHITELIST_MARK in text:
        return Outcome.NOT_WHITELISTED
    if NOT_SERVING_MARK in text:
        return Outcome.NOT_SERVING
    return Outcome.OK if text.strip() else Outcome.EMPTY


def _connect_failure(exc: OSError) -> tuple[Outcome, str]:
    if isinstance(exc, ConnectionRefusedError):
        return Outcome.REFUSED, str(exc)
    if isinstance(exc, socket.gaierror):
        return Outcome.UNREACHABLE, f"name resolution failed: {exc}"
    if exc.errno == errno.EHOSTUNREACH:
        return Outcome.HOST_UNREACHABLE, str(exc)
    if exc.errno in (errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return Outcome.UNREACHABLE, str(exc)
    if exc.errno == errno.ETIMEDOUT:
        return Outcome.TIMEOUT, str(exc)
    return Outcome.ERROR, f"{type(exc).__name__}: {exc}"


def _connect_timeout(cmd: str, host: str, port: int, error: str, t0: float) -> Answer:
    """A connect that timed out: the network, unless the port listens on this machine — then the
    accept queue is full and the JVM is not accepting (SIGSTOP, GC death spiral): the process."""
    if listening_here(host, port):
        return Answer(cmd, f"{host}:{port}", Outcome.STALLED, error=f"{error}; {STUCK_LISTENER}", elapsed_ms=_ms(t0))
    return Answer(cmd, f"{host}:{port}", Outcome.TIMEOUT, error=error, elapsed_ms=_ms(t0))


async def connect_probe(host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """Open and close a TCP connection: is anything listening?"""
    t0 = time.monotonic()
    address = f"{host}:{port}"
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return _connect_timeout("connect", host, port, f"no answer within {timeout:g}s", t0)
    except OSError as exc:
        outcome, error = _connect_failure(exc)
        return Answer("connect", address, outcome, error=error, elapsed_ms=_ms(t0))
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    return Answer("connect", address, Outcome.OK, text="connected", elapsed_ms=_ms(t0))


async def four_letter(host: str, port: int, cmd: str, timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """Send one four-letter word and read until the server closes the connection."""
    t0 = time.monotonic()
    address = f"{host}:{port}"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return _connect_timeout(cmd, host, port, f"connect: no answer within {timeout:g}s", t0)
    except OSError as exc:
        outcome, error = _connect_failure(exc)
        return Answer(cmd, address, outcome, error=error, elapsed_ms=_ms(t0))
    chunks: list[bytes] = []
    try:
        writer.write(cmd.encode("ascii"))
        await writer.drain()
        async with asyncio.timeout(max(0.1, timeout - (time.monotonic() - t0))):
            size = 0
            while size < MAX_ANSWER and (chunk := await reader.read(65536)):
                chunks.append(chunk)
                size += len(chunk)
    except TimeoutError:
        text = b"".join(chunks).decode("utf-8", "replace")
        return Answer(cmd, address, Outcome.STALLED, text=text, error=f"no complete answer within {timeout:g}s",
                      elapsed_ms=_ms(t0))
    except OSError as exc:  # reset by peer mid-answer
        text = b"".join(chunks).decode("utf-8", "replace")
        if text.strip():
            return Answer(cmd, address, classify(text), text=text, elapsed_ms=_ms(t0))
        return Answer(cmd, address, Outcome.EMPTY, error=f"{type(exc).__name__}: {exc}", elapsed_ms=_ms(t0))
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
    text = b"".join(chunks).decode("utf-8", "replace")
    return Answer(cmd, address, classify(text), text=text, elapsed_ms=_ms(t0))


async def admin_command(host: str, port: int, name: str, *, scheme: str = "http",
                        timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """``GET /commands/<name>`` on the AdminServer; JSON in ``data``."""
    t0 = time.monotonic()
    url = f"{scheme}://{host}:{port}/commands/{name}"
    address = f"{host}:{port}"
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=False) as client:  # admin TLS is self-signed
            resp = await client.get(url)
    except httpx.ConnectTimeout as exc:
        return Answer(f"GET {url}", address, Outcome.TIMEOUT, error=str(exc), elapsed_ms=_ms(t0), via="admin")
    except httpx.ConnectError as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
        outcome = _connect_failure(cause)[0] if cause else Outcome.REFUSED
        return Answer(f"GET {url}", address, outcome, error=str(exc), elapsed_ms=_ms(t0), via="admin")
    except httpx.TimeoutException as exc:
        return Answer(f"GET {url}", address, Outcome.STALLED, error=str(exc) or "read timeout",
                      elapsed_ms=_ms(t0), via="admin")
    except httpx.HTTPError as exc:
        return Answer(f"GET {url}", address, Outcome.ERROR, error=f"{type(exc).__name__}: {exc}",
                      elapsed_ms=_ms(t0), via="admin")
    text = resp.text
    try:
        data = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        # 3.8 answers some commands with HTTP 500 (a NullPointerException on zkServer) while LOOKING
        outcome = Outcome.NOT_SERVING if "zkServer" in text and "null" in text else Outcome.ERROR
        return Answer(f"GET {url}", address, outcome, text=text[:TRIM], error=f"HTTP {resp.status_code}",
                      elapsed_ms=_ms(t0), via="admin")
    error = data.get("error")
    if error:
        outcome = Outcome.NOT_SERVING if NOT_SERVING_MARK in str(error) else Outcome.ERROR
        return Answer(f"GET {url}", address, outcome, text=text, error=str(error), elapsed_ms=_ms(t0),
                      via="admin", data=data)
    return Answer(f"GET {url}", address, Outcome.OK, text=text, elapsed_ms=_ms(t0), via="admin", data=data)


class ZkClient:
    """The questions a check asks about one target, with the AdminServer as whitelist fallback.

    Target labels: ``admin_port`` (enables the fallback), ``admin_scheme`` (http/https),
    ``admin_host`` (defaults to the target's host), ``timeout`` (seconds per question).
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.host, self.port = split_address(target.address, DEFAULT_PORT)
        labels = target.labels
        self.timeout = label_float(target, "timeout", DEFAULT_TIMEOUT)
        admin = labels.get("admin_port", "")
        self.admin_port = int(admin) if admin.isdigit() else None
        self.admin_host = labels.get("admin_host") or self.host
        self.admin_scheme = labels.get("admin_scheme", "http")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def connect(self) -> Answer:
        return await connect_probe(self.host, self.port, self.timeout)

    async def ask(self, cmd: str, *, fallback: bool = True) -> Answer:
        """The four-letter word; when the whitelist refuses it, the AdminServer equivalent."""
        answer = await four_letter(self.host, self.port, cmd, self.timeout)
        if answer.outcome is not Outcome.NOT_WHITELISTED or not fallback or self.admin_port is None:
            return answer
        name = ADMIN_COMMANDS.get(cmd)
        if name is None:
            return answer
        alt = await admin_command(self.admin_host, self.admin_port, name, scheme=self.admin_scheme,
                                  timeout=self.timeout)
        # an unreachable AdminServer says nothing new: keep the whitelist refusal, it is the finding
        return alt if alt.outcome in (Outcome.OK, Outcome.NOT_SERVING) else answer


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000, 2)
