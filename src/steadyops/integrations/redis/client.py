"""Talking to Redis: one short-lived connection per question, raw ``INFO`` text, errors located.

Why raw INFO: redis-py's parsed INFO hides the text an operator would paste from ``redis-cli``,
and our parser (:mod:`.parse`) is unit-tested on captured real answers. Why no client-side
retries: the check runner owns retries and timeouts; a refused connection must come back at once
as "process down", not after redis-py's back-off.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, BusyLoadingError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from steadyops.contracts.checks import label_bool, label_float, label_int
from steadyops.core.credentials import CredentialError, resolve_secret
from steadyops.core.inventory import Target, split_address
from steadyops.integrations.redis.parse import parse_info
from steadyops.sources.probing import STUCK_LISTENER, listening_here

DEFAULT_PORT = 6379
DEFAULT_TIMEOUT = 5.0
#: what redis-server says (then closes) to a connection over ``maxclients``
MAXCLIENTS_MARK = "max number of clients reached"
CLIENT_NAME = "steadyops"  # so our own commands can be told apart in SLOWLOG and CLIENT LIST


@asynccontextmanager
async def connect(target: Target) -> AsyncIterator[aioredis.Redis]:
    """A connection to ``target`` (labels: ``user``, ``db``, ``tls``, ``timeout``; password by reference)."""
    from redis.asyncio.retry import Retry

    host, port = split_address(target.address, DEFAULT_PORT)
    timeout = label_float(target, "timeout", DEFAULT_TIMEOUT)
    client = aioredis.Redis(
        host=host, port=port, db=label_int(target, "db", 0),
        username=target.labels.get("user") or None, password=resolve_secret(target.credentials),
        ssl=label_bool(target, "tls", False),
        socket_connect_timeout=timeout, socket_timeout=timeout, decode_responses=True,
        retry=Retry(NoBackoff(), 0), client_name=CLIENT_NAME,
    )
    client.set_response_callback("INFO", _raw)
    try:
        yield client
    finally:
        await client.aclose()


def _raw(response: Any, **_: Any) -> Any:
    return response


async def fetch_info(client: aioredis.Redis, section: str = "everything") -> dict[str, str]:
    text = await client.execute_command("INFO", section)  # type: ignore[no-untyped-call]
    return parse_info(str(text))


def describe_error(exc: BaseException, target: Target | None = None) -> tuple[str, str, bool]:
    """``(layer, what happened, is_an_answer)`` for an error talking to Redis.

    ``is_an_answer`` separates "Redis said something about itself" (refused: nothing listens;
    LOADING: not serving yet) from "we could not ask" (timeout, bad password): only the first may
    be judged CRITICAL by the connectivity check, everything else is UNKNOWN.
    """
    if isinstance(exc, CredentialError):
        return "config", str(exc), False
    if isinstance(exc, AuthenticationError) or (
            isinstance(exc, ResponseError) and str(exc).startswith(("NOAUTH", "WRONGPASS", "NOPERM"))):
        return "config", f"authentication failed: {str(exc)[:200]}", False
    if MAXCLIENTS_MARK in str(exc):  # redis-py raises it as a ConnectionError: it is an answer, not the network
        return "capacity", f"Redis refuses new connections: {MAXCLIENTS_MARK} (maxclients)", True
    if isinstance(exc, BusyLoadingError):
        return "process", "Redis is loading its dataset into memory and not serving yet", True
    cause = _os_cause(exc)
    if isinstance(cause, socket.gaierror):
        return "network", f"cannot resolve the host name: {cause.strerror or cause}", False
    if isinstance(cause, ConnectionRefusedError) or (cause is not None and cause.errno == errno.ECONNREFUSED):
        return "process", "connection refused: nothing listens on the port (redis-server down?)", True
    if cause is not None and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "network", f"host unreachable: {cause.strerror}", True
    if isinstance(exc, RedisTimeoutError | TimeoutError) or isinstance(cause, TimeoutError):
        if "connecting" not in str(exc):  # connected, then silence: a hung (SIGSTOPped, blocked) server
            return "process", f"connected, but no answer before the timeout ({str(exc)[:120]}): hung?", True
        if target is not None and listening_here(*split_address(target.address, DEFAULT_PORT)):
            return "process", STUCK_LISTENER, True
        return "network", "no answer before the timeout", False
    if isinstance(exc, RedisConnectionError):
        return "network", f"connection failed: {str(exc)[:200]}", False
    if isinstance(exc, RedisError):
        return "process", f"{type(exc).__name__}: {str(exc)[:200]}", False
    return "", f"{type(exc).__name__}: {str(exc)[:200]}", False


def _os_cause(exc: BaseException) -> OSError | None:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
