"""HTTP failures located the same for every HTTP-speaking integration, and one TLS policy from labels."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx

from steadyops.core.inventory import Target
from steadyops.sources.probing import locate_http_error, target_tls_context, tls_context


def _wrapped(cause: BaseException) -> httpx.ConnectError:
    exc = httpx.ConnectError("connect failed")
    exc.__cause__ = cause
    return exc


def test_layers() -> None:
    assert locate_http_error(_wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "refused")))[0] == "process"
    assert locate_http_error(_wrapped(OSError(errno.EHOSTUNREACH, "No route to host")))[0] == "network"
    assert locate_http_error(_wrapped(socket.gaierror(-2, "Name or service not known")))[0] == "network"
    assert locate_http_error(_wrapped(ssl.SSLError(1, "handshake")))[0] == "config"
    assert locate_http_error(httpx.ConnectTimeout("slow")) == ("network", "connect timed out")
    assert locate_http_error(httpx.ReadTimeout("slow"))[0] == "process"
    assert locate_http_error(httpx.RemoteProtocolError("bye"))[0] == "process"


def test_tls_context_from_labels_is_shared() -> None:
    strict = target_tls_context(Target(name="a", kind="nginx"))
    assert strict.verify_mode is ssl.CERT_REQUIRED and strict.check_hostname
    assert strict is tls_context(True, None)  # built once: loading the CA bundle is slow
    lax = target_tls_context(Target(name="b", kind="nginx", labels={"tls_verify": "false"}))
    assert lax.verify_mode is ssl.CERT_NONE and not lax.check_hostname
    assert target_tls_context(Target(name="c", kind="nginx", labels={"tls_verify": "maybe"})) is strict


def test_gateway_codes_point_at_the_upstream() -> None:
    from steadyops.sources.probing import http_status_layer

    assert http_status_layer(502) == "upstream" and http_status_layer(504) == "upstream"
    assert http_status_layer(503) == "process" and http_status_layer(500) == "process"
    assert http_status_layer(404) == "config"


def test_a_local_listener_is_told_apart_from_a_closed_or_remote_port() -> None:
    import socket

    from steadyops.sources.probing import listening_here

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        assert listening_here("127.0.0.1", port)
    assert not listening_here("127.0.0.1", port)  # closed now
    assert not listening_here("192.0.2.1", port)  # TEST-NET: never this machine
