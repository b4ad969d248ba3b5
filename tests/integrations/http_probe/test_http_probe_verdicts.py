"""拨测 verdicts on scripted tries (no network): status over N tries, latency percentiles, content,
redirect reporting; and the certificate parser on a freshly generated self-signed certificate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.http_probe import checks
from steadyops.integrations.http_probe.probe import Attempt, ProbeRun, ProbeRuns, _parse_der, host_port, percentile
from tests.harness.middleware import self_signed_cert

OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN
URL = "https://shop.example/"
PAGE = "<html><body>Welcome to the shop</body></html>"


def scripted(monkeypatch: pytest.MonkeyPatch, *attempts: Attempt) -> None:
    async def fake(self: ProbeRuns, target: Target) -> ProbeRun:
        return ProbeRun(URL, list(attempts))

    monkeypatch.setattr(ProbeRuns, "shared", fake)


def ok(ms: float = 80, status: int = 200, body: str = PAGE, redirects: tuple[tuple[int, str], ...] = ()) -> Attempt:
    return Attempt(ms, status, URL, redirects, body)


def target(**labels: str) -> Target:
    return Target(name="shop", kind="http_probe", address=URL, labels=labels)


def test_percentile_is_linear_interpolation() -> None:
    assert percentile([100, 200, 300], 50) == 200
    assert percentile([100, 200, 300], 95) == pytest.approx(290)
    assert percentile([42], 95) == 42 and percentile([], 50) == 0


def test_expected_status_classes() -> None:
    assert checks.expected(target(), 302) and not checks.expected(target(), 404)
    classes = target(expect_status="2xx,301")
    assert checks.expected(classes, 204) and checks.expected(classes, 301) and not checks.expected(classes, 302)
    assert not checks.expected(target(expect_status="200"), 201)


async def test_all_tries_ok_reports_the_redirect_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    hops = ((301, "http://shop.example/"), (302, "https://shop.example/home"))
    scripted(monkeypatch, *[ok(redirects=hops)] * 3)
    result = await checks.StatusCheck().run(target())
    assert result.status is OK and "after 2 redirect(s)" in result.summary and result.metrics["redirects"] == 2
    assert result.evidence[0].detail.startswith("301 http://shop.example/ → 302 https://shop.example/home → 200")


async def test_some_tries_failing_is_flapping_all_failing_is_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = Attempt(1.0, error="connection refused: nothing listens on the port", layer="process")
    scripted(monkeypatch, ok(), refused, ok())
    flapping = await checks.StatusCheck().run(target())
    assert flapping.status is WARN and "1/3 tries failed (flapping)" in flapping.summary
    scripted(monkeypatch, refused, refused, refused)
    down = await checks.StatusCheck().run(target())
    assert down.status is CRIT and down.layer == "process"
    scripted(monkeypatch, *[ok(status=503)] * 3)
    wrong = await checks.StatusCheck().run(target())
    assert wrong.status is CRIT and wrong.layer == "process" and "HTTP 503" in wrong.summary


async def test_https_downgraded_to_http_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, Attempt(50, 200, "http://shop.example/", ((301, URL),), PAGE))
    result = await checks.StatusCheck().run(target())
    assert result.status is WARN and result.layer == "config" and "plain http" in result.summary


async def test_latency_counts_timeouts_at_their_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    timeout = Attempt(5000, error="connected, but no answer before the timeout", layer="process", timed_out=True)
    scripted(monkeypatch, ok(100), ok(120), timeout)
    result = await checks.LatencyCheck().run(target())
    # connected but never answered: a hung process, not the network (the try's own layer)
    assert result.status is CRIT and result.layer == "process" and result.metrics["latency_max_ms"] == 5000
    scripted(monkeypatch, ok(100), ok(1200), ok(150))
    assert (await checks.LatencyCheck().run(target())).status is WARN
    scripted(monkeypatch, Attempt(1, error="refused", layer="process"))
    assert (await checks.LatencyCheck().run(target())).status is UNKNOWN


async def test_content_keyword_and_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, ok(), ok(body="<html>maintenance</html>"))
    result = await checks.ContentCheck().run(target(expect_keyword="Welcome"))
    assert result.status is WARN and "missing from 1/2 page(s)" in result.summary
    scripted(monkeypatch, ok(), ok())
    assert (await checks.ContentCheck().run(target(expect_regex=r"Welcome to the \w+"))).status is OK
    missing = await checks.ContentCheck().run(target(expect_regex=r"cart \d+"))
    assert missing.status is CRIT and missing.layer == "process"
    assert (await checks.ContentCheck().run(target(expect_regex="("))).status is UNKNOWN
    assert (await checks.ContentCheck().run(target())).status is OK  # nothing asked, nothing to match


def test_certificate_parser_on_a_self_signed_cert(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    tls = self_signed_cert(tmp_path, days=3)
    der = x509.load_pem_x509_certificate(tls.cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    cert = _parse_der(der, "self-signed certificate")
    assert cert.subject == "CN=127.0.0.1" and set(cert.names) == {"localhost", "127.0.0.1"}
    assert 2.9 < cert.days_left(datetime.now(UTC)) <= 3 and cert.verify_error == "self-signed certificate"


def test_host_port_defaults() -> None:
    assert host_port("https://shop.example/x") == ("shop.example", 443, "https")
    assert host_port("http://10.0.0.1:8080/") == ("10.0.0.1", 8080, "http")
