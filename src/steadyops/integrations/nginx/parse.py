"""Parse nginx's ``stub_status`` page and locate HTTP errors; pure functions, unit-tested on real text.

stub_status is four fixed lines (ngx_http_stub_status_module)::

    Active connections: 291
    server accepts handled requests
     16630948 16630948 31070465
    Reading: 6 Writing: 179 Waiting: 106

``accepts - handled`` is the number of connections nginx accepted and then dropped because
``worker_connections`` (or the fd limit) was exhausted — the one number on the page that is a
failure by itself.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from dataclasses import dataclass

import httpx

_ACTIVE = re.compile(r"Active connections:\s*(\d+)")
_COUNTERS = re.compile(r"server accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)")
_STATES = re.compile(r"Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)")


@dataclass(frozen=True)
class StubStatus:
    active: int
    accepts: int
    handled: int
    requests: int
    reading: int
    writing: int
    waiting: int

    @property
    def dropped(self) -> int:
        return max(0, self.accepts - self.handled)

    def as_dict(self) -> dict[str, int]:
        return {"active": self.active, "accepts": self.accepts, "handled": self.handled, "requests": self.requests,
                "reading": self.reading, "writing": self.writing, "waiting": self.waiting, "dropped": self.dropped}


def parse_stub_status(text: str) -> StubStatus:
    """The stub_status page → :class:`StubStatus`; ``ValueError`` if it is not one (e.g. an HTML page)."""
    active, counters, states = _ACTIVE.search(text), _COUNTERS.search(text), _STATES.search(text)
    if not (active and counters):
        raise ValueError(f"not an nginx stub_status page: {text[:120]!r}")
    reading, writing, waiting = (int(g) for g in states.groups()) if states else (0, 0, 0)
    accepts, handled, requests = (int(g) for g in counters.groups())
    return StubStatus(int(active.group(1)), accepts, handled, requests, reading, writing, waiting)


def locate_http_error(exc: httpx.HTTPError) -> tuple[str, str]:
    """``(layer, what happened)`` for a failed request: refused → process, DNS / timeout → network, TLS → config."""
    cause: BaseException | None = exc
    for _ in range(6):
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "config", f"TLS certificate rejected: {cause.verify_message or cause}"
        if isinstance(cause, ssl.SSLError):
            return "config", f"TLS handshake failed: {cause.reason or cause}"
        if isinstance(cause, socket.gaierror):
            return "network", f"DNS resolution failed: {cause.strerror or cause}"
        if isinstance(cause, ConnectionRefusedError) or (isinstance(cause, OSError)
                                                         and cause.errno == errno.ECONNREFUSED):
            return "process", "connection refused: nothing listens on the port"
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "network", f"host unreachable: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectTimeout):
        return "network", "connect timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "process", "connected, but no answer before the timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "refused" in text.lower():
            return "process", "connection refused: nothing listens on the port"
        return "network", f"connect failed: {text[:200]}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "process", f"the server broke the HTTP exchange: {str(exc)[:200]}"
    return "network", f"{type(exc).__name__}: {str(exc)[:200]}"
