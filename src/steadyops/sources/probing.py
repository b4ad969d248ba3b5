"""Talking HTTP to what we watch: one TLS policy and one reading of where a request failed.

Every HTTP-speaking integration (http_probe, nginx, rabbitmq, prometheus) uses these, so
"connection refused" is always *process* and an expired certificate always *config*, whichever
check saw it, and the labels ``tls_verify`` / ``ca_file`` mean the same on every target.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import socket
import ssl

import httpx
import psutil

from steadyops.contracts.checks import label_bool
from steadyops.core.inventory import Target

__all__ = ["GATEWAY_CODES", "STUCK_LISTENER", "http_status_layer", "listening_here", "locate_http_error",
           "target_tls_context", "tls_context"]

#: what a connect timeout means when the port is listening on this very machine
STUCK_LISTENER = ("connect timed out although the port is listening on this host: the accept queue is full, "
                  "so the process is not accepting (hung or overloaded)")


@functools.lru_cache(maxsize=32)
def tls_context(verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """A shared client TLS context: building one loads the CA bundle (~40 ms), too slow per request.

    ``ca_file`` trusts a private CA (or a self-signed certificate) instead of the public bundle;
    ``verify=False`` still encrypts but accepts any certificate (the expiry is judged separately).
    """
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    import certifi  # httpx's own dependency: the same trust store httpx would use

    return ssl.create_default_context(cafile=certifi.where())


def target_tls_context(target: Target) -> ssl.SSLContext:
    """:func:`tls_context` as the target's labels ask: ``tls_verify`` (default true) and ``ca_file``."""
    return tls_context(label_bool(target, "tls_verify", True), target.labels.get("ca_file") or None)


#: "bad gateway" / "gateway timeout": the server answering is a proxy, and what failed is behind it
GATEWAY_CODES = frozenset({502, 504})


def http_status_layer(code: int) -> str:
    """Where an unexpected HTTP status points: 502/504 at the proxy's *upstream* (the proxy itself
    answered, so it is up), another 5xx at the process that answered, a 4xx at configuration."""
    if code in GATEWAY_CODES:
        return "upstream"
    return "process" if code >= 500 else "config"


def _own_addresses() -> set[str]:
    own = {"localhost", socket.gethostname()}
    for addrs in psutil.net_if_addrs().values():
        own.update(a.address.split("%", 1)[0] for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6))
    return own


def listening_here(host: str, port: int) -> bool:
    """Whether ``host:port`` is a listening TCP socket on this machine.

    Why: a connect that times out usually means the network, but not when the port listens right
    here — there is no network on loopback. The kernel then drops SYNs because the listener's
    accept queue is full: the process stopped calling ``accept`` (SIGSTOP, a hung JVM, a deadlock).
    So a timeout on a local listener is the *process*, not the network. Remote hosts cannot be
    told apart this way, and keep the network reading.
    """
    try:
        local = ipaddress.ip_address(host).is_loopback or host in _own_addresses()
    except ValueError:
        local = host in _own_addresses()
    if not local:
        return False
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


def locate_http_error(exc: httpx.HTTPError) -> tuple[str, str]:
    """``(layer, what happened)`` for a failed request: refused → process, DNS / timeout → network, TLS → config."""
    cause: BaseException | None = exc
    for _ in range(6):
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "config", f"TLS certificate rejected: {cause.verify_message or cause}"
        if isinstance(cause, ssl.SSLError):
            # ``reason`` is set on errors the ssl module raises, absent on one built by hand
            return "config", f"TLS handshake failed: {getattr(cause, 'reason', None) or cause}"
        if isinstance(cause, socket.gaierror):
            return "network", f"DNS resolution failed: {cause.strerror or cause}"
        if isinstance(cause, ConnectionRefusedError) or (isinstance(cause, OSError)
                                                         and cause.errno == errno.ECONNREFUSED):
            return "process", "connection refused: nothing listens on the port"
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "network", f"host unreachable: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectTimeout):
        url = exc.request.url if _has_request(exc) else None
        port = (url.port or (443 if url.scheme == "https" else 80)) if url is not None else 0
        if url is not None and url.host and listening_here(url.host, port):
            return "process", STUCK_LISTENER
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


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when the error was built without one
    except RuntimeError:
        return False
    return True
