"""Talking to MySQL / MariaDB: PyMySQL in a worker thread, one short connection per question.

PyMySQL is synchronous; running it in ``asyncio.to_thread`` keeps the event loop free, and the
socket timeouts make sure the thread ends even when the runner has already given up on the check.
Connection errors are mapped to layers here, once: "Too many connections" is *capacity* (that IS
the finding), "refused" is *process*, a bad password is *config* and a question we could not ask.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pymysql
import pymysql.cursors

from steadyops.contracts.checks import label_float
from steadyops.core.credentials import CredentialError, resolve_secret
from steadyops.core.inventory import Target, split_address
from steadyops.sources.probing import STUCK_LISTENER, listening_here

T = TypeVar("T")
DEFAULT_PORT = 3306
DEFAULT_TIMEOUT = 5.0

#: server error codes that are an answer about the server itself, with their layer
ANSWER_CODES: dict[int, tuple[str, str]] = {
    1040: ("capacity", "Too many connections: max_connections is exhausted"),
    1203: ("capacity", "the user's max_user_connections is exhausted"),
    1226: ("capacity", "the user's resource limit (max_user_connections / max_connections_per_hour) is exhausted"),
    1129: ("config", "this host is blocked after too many connection errors (max_connect_errors); FLUSH HOSTS"),
    1130: ("config", "this host is not allowed to connect"),
}
CONFIG_CODES = {1044, 1045, 1049, 1698, 1251}  # access denied, unknown database, auth plugin


def connect(target: Target) -> pymysql.connections.Connection[pymysql.cursors.DictCursor]:
    """A blocking connection (labels ``user`` (default root), ``database``, ``timeout``; password by reference)."""
    host, port = split_address(target.address, DEFAULT_PORT)
    timeout = label_float(target, "timeout", DEFAULT_TIMEOUT)
    return pymysql.connect(host=host, port=port, user=target.labels.get("user", "root"),
                           password=resolve_secret(target.credentials) or "", database=target.labels.get("database"),
                           connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout, autocommit=True,
                           charset="utf8mb4", cursorclass=pymysql.cursors.DictCursor, program_name="steadyops")


@dataclass(frozen=True)
class Failure:
    """Why asking failed: ``answered`` is True when the failure says something about the server."""

    layer: str
    what: str
    answered: bool
    code: int = 0


def describe_error(exc: BaseException, target: Target | None = None) -> Failure | None:
    """Map a connect/query error to a :class:`Failure`; ``None`` for an unexpected error (a bug).

    A timeout after the TCP connect (2013) is a server that accepted and never answered: hung, the
    process. A connect timeout is the network, unless ``target``'s port listens on this very host
    (then its accept queue is full: the process again, see :func:`steadyops.sources.probing.listening_here`).
    """
    if isinstance(exc, CredentialError):
        return Failure("config", str(exc), False)
    if not isinstance(exc, pymysql.err.MySQLError):
        return None
    code = int(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else 0
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code in ANSWER_CODES:
        layer, what = ANSWER_CODES[code]
        return Failure(layer, f"{what} (error {code}: {message[:160]})", True, code)
    if code in CONFIG_CODES:
        return Failure("config", f"error {code}: {message[:200]}", False, code)
    if code == 2003:
        low = message.lower()
        if "refused" in low or "errno 111" in low:
            return Failure("process", "connection refused: nothing listens on the port (mysqld down?)", True, code)
        if "timed out" in low:
            if target is not None and listening_here(*split_address(target.address, DEFAULT_PORT)):
                return Failure("process", STUCK_LISTENER, True, code)
            return Failure("network", f"connect timed out: {message[:160]}", False, code)
        if "unreachable" in low:
            return Failure("network", f"host unreachable: {message[:160]}", True, code)
        return Failure("network", f"cannot connect: {message[:200]}", False, code)
    if code == 2013 and "timed out" in message.lower():
        return Failure("process", f"connected, but mysqld sent no answer before the timeout (hung?): "
                       f"error {code}: {message[:160]}", True, code)
    if code in (2005, 2006, 2013):
        return Failure("network", f"error {code}: {message[:200]}", False, code)
    return Failure("process", f"error {code}: {message[:200]}", False, code)


async def ask(target: Target, question: Callable[[pymysql.cursors.DictCursor], T]) -> T:
    """Run ``question(cursor)`` on a fresh connection in a worker thread."""

    def work() -> T:
        conn = connect(target)
        try:
            with conn.cursor() as cur:
                return question(cur)
        finally:
            conn.close()

    return await asyncio.to_thread(work)


def status_vars(cur: pymysql.cursors.DictCursor, names: tuple[str, ...]) -> dict[str, str]:
    """``SHOW GLOBAL STATUS`` restricted to ``names`` (one round trip)."""
    return _show(cur, "STATUS", names)


def variables(cur: pymysql.cursors.DictCursor, names: tuple[str, ...]) -> dict[str, str]:
    return _show(cur, "VARIABLES", names)


def _show(cur: pymysql.cursors.DictCursor, what: str, names: tuple[str, ...]) -> dict[str, str]:
    marks = ", ".join(["%s"] * len(names))
    cur.execute(f"SHOW GLOBAL {what} WHERE Variable_name IN ({marks})", names)
    return {str(r["Variable_name"]): str(r["Value"]) for r in cur.fetchall()}
