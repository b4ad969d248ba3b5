"""What the PostgreSQL checks share: one async connection per question, failures located, helpers.

psycopg reports connection failures without a SQLSTATE (the server's FATAL arrives before a
session exists), so the layer is read from the message libpq writes: "Connection refused" is a
dead postmaster (*process*), "too many clients already" is exhaustion (*capacity*) — an answer
about the server, CRITICAL for the checks it concerns — while a bad password is *config* and a
question we could not ask (UNKNOWN).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import psycopg
from psycopg.rows import dict_row

from steadyops.contracts.checks import Check, label_float, verdict
from steadyops.core.credentials import CredentialError, resolve_secret
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.sources.probing import STUCK_LISTENER, listening_here

TARGET_KIND = "postgres"
DEFAULT_PORT = 5432
DEFAULT_TIMEOUT = 5.0
Row = dict[str, Any]

#: (fragment of libpq's message, layer, what it means, is it an answer about the server)
_MESSAGES: tuple[tuple[str, str, str, bool], ...] = (
    ("too many clients", "capacity", "max_connections is exhausted (too many clients already)", True),
    ("too many connections", "capacity", "", True),  # for role / for database: CONNECTION LIMIT reached
    ("remaining connection slots are reserved", "capacity",
     "only superuser-reserved connection slots are left (max_connections exhausted)", True),
    ("connection refused", "process", "connection refused: nothing listens on the port (postgres down?)", True),
    ("starting up", "process", "the database system is starting up", True),
    ("shutting down", "process", "the database system is shutting down", True),
    ("in recovery mode", "process", "the database system is in recovery mode", True),
    ("not yet accepting connections", "process", "the database system is not yet accepting connections", True),
    ("no route to host", "network", "no route to host", True),
    ("network is unreachable", "network", "network is unreachable", True),
    ("could not translate host name", "network", "DNS: could not resolve the host name", False),
    ("timeout expired", "network", "connect timed out", False),
    ("password authentication failed", "config", "password authentication failed", False),
    ("no pg_hba.conf entry", "config", "refused by pg_hba.conf", False),
    ("does not exist", "config", "", False),  # role or database: libpq's own words are clearest
)


def databases(target: Target) -> list[str] | None:
    """Label ``databases: "app,billing"`` scopes the session checks to a team's databases."""
    names = [d.strip() for d in target.labels.get("databases", "").split(",") if d.strip()]
    return names or None


@asynccontextmanager
async def connect(target: Target) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
    """Labels ``user`` (default postgres), ``dbname`` (default postgres), ``sslmode``, ``timeout``."""
    host, port = split_address(target.address, DEFAULT_PORT)
    kwargs: dict[str, Any] = {"host": host, "port": port, "user": target.labels.get("user", "postgres"),
                              "dbname": target.labels.get("dbname", "postgres"), "application_name": "steadyops",
                              "connect_timeout": max(1, int(label_float(target, "timeout", DEFAULT_TIMEOUT)))}
    password = resolve_secret(target.credentials)
    if password is not None:
        kwargs["password"] = password
    if "sslmode" in target.labels:
        kwargs["sslmode"] = target.labels["sslmode"]
    conn = await psycopg.AsyncConnection.connect(autocommit=True, row_factory=dict_row, **kwargs)
    try:
        timeout_ms = int(label_float(target, "timeout", DEFAULT_TIMEOUT) * 1000)
        await conn.execute(f"SET statement_timeout = {timeout_ms}")
        yield conn
    finally:
        await conn.close()


async def rows(conn: psycopg.AsyncConnection[Row], sql: str, params: dict[str, Any] | None = None) -> list[Row]:
    cur = await conn.execute(sql, params)
    return await cur.fetchall()


@dataclass(frozen=True)
class Failure:
    layer: str
    what: str
    answered: bool


def describe_error(exc: BaseException, target: Target | None = None) -> Failure | None:
    """Locate a connect / query failure; ``None`` for an unexpected error (a bug the runner reports).

    libpq's "timeout expired" covers the TCP connect and the start-up exchange alike; when
    ``target``'s port listens on this very host it cannot be the network: a postmaster that does
    not answer (SIGSTOP, hung) — the process (see :func:`steadyops.sources.probing.listening_here`).
    """
    if isinstance(exc, CredentialError):
        return Failure("config", str(exc), False)
    if not isinstance(exc, psycopg.Error):
        return None
    text = str(exc)
    low = text.lower()
    if "timeout expired" in low and target is not None and listening_here(*split_address(target.address,
                                                                                         DEFAULT_PORT)):
        return Failure("process", f"{STUCK_LISTENER}; or it accepted and never completed the start-up", True)
    for fragment, layer, what, answered in _MESSAGES:
        if fragment in low:
            return Failure(layer, what or _last_line(text), answered)
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return Failure("capacity", f"query cancelled by statement_timeout: {_last_line(text)}", False)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return Failure("config", f"insufficient privilege (grant pg_monitor): {_last_line(text)}", False)
    return Failure("network" if isinstance(exc, psycopg.OperationalError) else "process", _last_line(text), False)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else text)[:300]


class PgCheck(Check):
    """Base: connect, :meth:`judge`; a failure to ask is UNKNOWN (subclasses judge failures that answer them)."""

    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        try:
            async with connect(target) as conn:
                return await self.judge(target, conn)
        except Exception as exc:
            failure = describe_error(exc, target)
            if failure is None:
                raise
            return self.failed(target, failure)

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        raise NotImplementedError

    def failed(self, target: Target, failure: Failure) -> CheckResult:
        return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot ask {target.address}: {failure.what}",
                           evidence=[Evidence(source=f"connect {target.address}", detail=failure.what)],
                           layer=failure.layer)

    result = staticmethod(verdict)


def trim(value: Any, limit: int = 160) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
