"""nginx stub_status parsing (on the page a real nginx 1.22 serves, data/stub_status.txt), target
helpers, and where an HTTP failure is located (shared with the other HTTP integrations)."""

from __future__ import annotations

import errno
import socket
import ssl
from pathlib import Path

import httpx
import pytest

from steadyops.core.inventory import Target
from steadyops.integrations.nginx.checks import base_url, expected_status, status_url
from steadyops.integrations.nginx.parse import parse_stub_status
from steadyops.sources.probing import locate_http_error

DATA = Path(__file__).parent / "data"


def test_parse_real_stub_status() -> None:
    stub = parse_stub_status((DATA / "stub_status.txt").read_text())
    assert (stub.active, stub.accepts, stub.handled, stub.requests) == (1, 2, 2, 2)
    assert (stub.reading, stub.writing, stub.waiting, stub.dropped) == (0, 1, 0, 0)


def test_dropped_connections_are_accepts_minus_handled() -> None:
    page = "Active connections: 291 \nserver accepts handled requests\n 16630948 16630900 31070465 \n" \
           "Reading: 6 Writing: 179 Waiting: 106 \n"
    stub = parse_stub_status(page)
    assert stub.dropped == 48 and stub.as_dict()["dropped"] == 48 and stub.waiting == 106


def test_an_html_page_is_not_stub_status() -> None:
    with pytest.raises(ValueError, match="not an nginx stub_status page"):
        parse_stub_status("<html><body>Welcome to nginx!</body></html>")


def test_urls_and_expected_status() -> None:
    t = Target(name="web", kind="nginx", address="10.0.0.5:8080")
    assert base_url(t) == "http://10.0.0.5:8080" and status_url(t) == "http://10.0.0.5:8080/nginx_status"
    custom = Target(name="web", kind="nginx", address="10.0.0.5", labels={"status_url": "basic_status",
                                                                          "expect_status": "200, 301"})
    assert status_url(custom) == "http://10.0.0.5/basic_status"
    assert expected_status(custom, 301) and not expected_status(custom, 302)
    assert expected_status(t, 302) and not expected_status(t, 404)


def _wrapped(cause: BaseException, cls: type[httpx.HTTPError] = httpx.ConnectError) -> httpx.HTTPError:
    exc = cls("boom")
    exc.__cause__ = cause
    return exc


def test_http_failures_are_located() -> None:
    assert locate_http_error(_wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "refused")))[0] == "process"
    assert locate_http_error(_wrapped(socket.gaierror(-2, "Name or service not known")))[0] == "network"
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "certificate has expired"
    assert locate_http_error(_wrapped(cert)) == ("config", "TLS certificate rejected: certificate has expired")
    assert locate_http_error(httpx.ConnectTimeout("slow"))[0] == "network"
    assert locate_http_error(httpx.ReadTimeout("slow"))[0] == "process"
