"""拨测 checks: status code over N tries, latency percentiles, body keyword / regex, TLS certificate
days left, DNS resolution time.

Target: kind ``http_probe``, address (or label ``url``) the URL. Labels: ``tries`` (3), ``timeout``
per try (5 s), ``method``, ``follow_redirects`` (true), ``max_redirects`` (5), ``expect_status``
(``200``, ``200,301`` or ``2xx``; default any answer below 400 after redirects), ``expect_keyword``,
``expect_regex``, ``latency_warn_ms`` / ``latency_crit_ms`` (on p95), ``tls_warn_days`` /
``tls_crit_days``, ``dns_warn_ms`` / ``dns_crit_ms``, ``tls_verify``, ``ca_file``.
"""

from __future__ import annotations

import re
import socket
import ssl
from typing import ClassVar

from steadyops.contracts.checks import Check, grade, grade_low, label_float, verdict
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.http_probe.probe import (
    Attempt,
    ProbeRun,
    UsesProbeRuns,
    fetch_cert,
    host_port,
    is_ip,
    percentile,
    probe_url,
    resolve,
    timeout_of,
)
from steadyops.sources.probing import http_status_layer

OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN
TARGET_KIND = "http_probe"
RB_PROBE = "http_probe/http-probe-status.en.md"
RB_LATENCY = "http_probe/http-probe-latency.en.md"
RB_TLS = "http_probe/http-probe-tls-expiry.en.md"


def expected(target: Target, code: int) -> bool:
    """``expect_status``: exact codes and ``Nxx`` classes, comma separated; default: below 400."""
    raw = target.labels.get("expect_status", "").strip()
    if not raw:
        return code < 400
    for item in (x.strip().lower() for x in raw.split(",")):
        if item == str(code) or (len(item) == 3 and item.endswith("xx") and item[0] == str(code)[0]):
            return True
    return False


class ProbeCheck(UsesProbeRuns, Check):
    target_kind: ClassVar[str] = TARGET_KIND
    runbook: ClassVar[str | None] = RB_PROBE
    timeout: ClassVar[float] = 30.0  # tries × per-try timeout, with the defaults 3 × 5 s and room to spare

    result = staticmethod(verdict)


def _attempt_line(run: ProbeRun, a: Attempt) -> str:
    if not a.answered:
        return f"no answer after {a.elapsed_ms:g} ms: {a.error}"
    return f"{run.chain(a)} in {a.elapsed_ms:g} ms"


class StatusCheck(ProbeCheck):
    """Did every try get the expected status? All failing is CRITICAL; some failing is a flapping
    endpoint (WARNING). Redirects are followed and the chain is the evidence; https→http is flagged."""

    name: ClassVar[str] = "http_probe.status"
    liveness: ClassVar[bool] = True

    async def run(self, target: Target) -> CheckResult:
        run = await self.memory.shared(target)
        bad = [a for a in run.attempts if not (a.answered and a.status is not None and expected(target, a.status))]
        evidence = [Evidence(source=f"GET {run.url} (try {i + 1}/{len(run.attempts)})", detail=_attempt_line(run, a),
                             value=a.status) for i, a in enumerate(run.attempts)]
        last = run.answered[-1] if run.answered else None
        metrics = {"tries": float(len(run.attempts)), "failed_tries": float(len(bad)),
                   "redirects": float(len(last.redirects)) if last else 0.0}
        if last is not None:
            metrics["status_code"] = float(last.status or 0)
        downgrade = last is not None and run.url.startswith("https://") and last.final_url.startswith("http://")
        if not bad:
            hops = f" after {len(last.redirects)} redirect(s) to {last.final_url}" if last and last.redirects else ""
            if downgrade:
                return self.result(WARN, f"HTTP {last.status if last else '?'}{hops}: redirected from https to plain "
                                   "http", evidence, "config", metrics)
            return self.result(OK, f"{len(run.attempts)}/{len(run.attempts)} tries HTTP "
                               f"{last.status if last else '?'}{hops}", evidence, "", metrics)
        first = bad[0]
        if first.answered:
            layer = http_status_layer(first.status or 0)
            what = f"HTTP {first.status}, expected {target.labels.get('expect_status') or '< 400'}"
        else:
            layer, what = first.layer or "network", first.error
        status = CRIT if len(bad) == len(run.attempts) else WARN
        lead = "every try failed" if status is CRIT else f"{len(bad)}/{len(run.attempts)} tries failed (flapping)"
        return self.result(status, f"{lead}: {what}", evidence, layer, metrics)


class LatencyCheck(ProbeCheck):
    """p50 / p95 / max of the tries' total time (DNS + connect + TLS + first byte + body). A try that
    timed out counts at its timeout: the user waited that long. p95 is graded."""

    name: ClassVar[str] = "http_probe.latency"
    runbook: ClassVar[str | None] = RB_LATENCY

    async def run(self, target: Target) -> CheckResult:
        run = await self.memory.shared(target)
        timed = [a.elapsed_ms for a in run.attempts if a.answered or a.timed_out]
        if not timed:
            first = run.attempts[0]
            return self.result(UNKNOWN, f"no latency to measure: {first.error}",
                               [Evidence(source=f"GET {run.url}", detail=first.error)], first.layer or "network")
        p50, p95, worst = percentile(timed, 50), percentile(timed, 95), max(timed)
        warn, crit = label_float(target, "latency_warn_ms", 1000), label_float(target, "latency_crit_ms", 3000)
        tries = ", ".join(f"{a.elapsed_ms:g}" + ("" if a.answered else " (timeout)") for a in run.attempts)
        evidence = [Evidence(source=f"GET {run.url} × {len(run.attempts)}", detail=f"tries (ms): {tries}")]
        status = grade(p95, warn, crit)
        # a try that timed out points where its error does (connect: network; no answer: process)
        layer = next((a.layer or "network" for a in run.attempts if a.timed_out), "capacity")
        return self.result(status, f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms over {len(timed)} tries "
                           f"(warn {warn:g} / crit {crit:g} ms)", evidence, layer,
                           {"latency_p50_ms": round(p50, 1), "latency_p95_ms": round(p95, 1),
                            "latency_max_ms": round(worst, 1)})


class ContentCheck(ProbeCheck):
    """The page says what it should (``expect_keyword`` / ``expect_regex``): a 200 carrying an error
    page or an empty template is an outage a status check cannot see."""

    name: ClassVar[str] = "http_probe.content"

    async def run(self, target: Target) -> CheckResult:
        keyword, pattern = target.labels.get("expect_keyword"), target.labels.get("expect_regex")
        if not keyword and not pattern:
            return self.result(OK, "no expect_keyword / expect_regex label: nothing to match", [], "")
        try:
            regex = re.compile(pattern) if pattern else None
        except re.error as exc:
            return self.result(UNKNOWN, f"expect_regex {pattern!r} is not a valid regex: {exc}", [], "config")
        run = await self.memory.shared(target)
        pages = [a for a in run.answered if a.status is not None and a.status < 400]
        if not pages:
            why = run.attempts[-1].error or f"HTTP {run.attempts[-1].status}"
            return self.result(UNKNOWN, f"no page to match the body against: {why}",
                               [Evidence(source=f"GET {run.url}", detail=why)], run.attempts[-1].layer or "process")
        def lacks(page: Attempt) -> list[str]:
            out = [f"keyword {keyword!r}"] if keyword and keyword not in page.body else []
            return out + ([f"regex {pattern!r}"] if regex is not None and regex.search(page.body) is None else [])

        failed = [p for p in pages if lacks(p)]
        body = " ".join(pages[-1].body.split())[:240]
        evidence = [Evidence(source=f"GET {run.url} body (start of {len(pages[-1].body)} chars)", detail=body)]
        if not failed:
            wanted = " and ".join(x for x in (keyword and f"keyword {keyword!r}", pattern and f"regex {pattern!r}")
                                  if x)
            return self.result(OK, f"{wanted} found in {len(pages)}/{len(pages)} page(s)", evidence, "")
        status = CRIT if len(failed) == len(pages) else WARN
        return self.result(status, f"{' and '.join(lacks(failed[0]))} missing from {len(failed)}/{len(pages)} "
                           f"page(s) (HTTP {failed[0].status})", evidence, "process",
                           {"pages_missing": float(len(failed))})


class TlsCheck(ProbeCheck):
    """Days until the endpoint's certificate expires, and whether it verifies (chain, host name).
    Fetched with ssl + socket directly so an already-expired or self-signed certificate still
    reports its dates."""

    name: ClassVar[str] = "http_probe.tls"
    runbook: ClassVar[str | None] = RB_TLS
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        url = probe_url(target)
        host, port, scheme = host_port(url)
        if scheme != "https":
            return self.result(OK, f"{scheme}:// URL, no certificate to check", [], "")
        source = f"TLS handshake {host}:{port}"
        try:
            cert = await fetch_cert(target, host, port, timeout_of(target))
        except ConnectionRefusedError:
            return self.result(UNKNOWN, f"cannot read the certificate: {host}:{port} refused the connection",
                               [Evidence(source=source, detail="connection refused")], "process")
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            layer = "config" if isinstance(exc, ssl.SSLError) else "network"
            what = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            return self.result(UNKNOWN, f"cannot read the certificate: {what}", [Evidence(source=source,
                               detail=what[:300])], layer)
        days = cert.days_left()
        warn, crit = label_float(target, "tls_warn_days", 30), label_float(target, "tls_crit_days", 7)
        evidence = [Evidence(source=source, value=round(days, 2),
                             detail=f"subject {cert.subject}; issuer {cert.issuer}; notAfter "
                                    f"{cert.not_after.isoformat()}; names {', '.join(cert.names[:6]) or '-'}")]
        metrics = {"tls_days_left": round(days, 2)}
        status = grade_low(days, warn, crit)
        summary = f"certificate expired {-days:.1f} days ago" if days < 0 else f"certificate expires in {days:.1f} days"
        summary += f" ({cert.not_after:%Y-%m-%d %H:%M} UTC)"
        if cert.verify_error:
            evidence.append(Evidence(source=source + " (verification)", detail=cert.verify_error[:300]))
            summary += f"; does not verify: {cert.verify_error}"
            status = CRIT  # clients that verify (browsers, SDKs) refuse this endpoint right now
        return self.result(status, summary, evidence, "config", metrics)


class DnsCheck(ProbeCheck):
    """Resolution of the URL's host name with the system resolver, timed: a failing or slow resolver
    makes every client slow or down before a single byte reaches the site."""

    name: ClassVar[str] = "http_probe.dns"
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        host, port, _ = host_port(probe_url(target))
        if is_ip(host):
            return self.result(OK, f"{host} is an IP address: no DNS lookup", [], "")
        source = f"getaddrinfo({host})"
        try:
            addresses, ms = await resolve(host, port, timeout_of(target))
        except TimeoutError:
            return self.result(CRIT, f"resolving {host} timed out", [Evidence(source=source, detail="timeout")],
                               "network")
        except socket.gaierror as exc:
            return self.result(CRIT, f"{host} does not resolve: {exc.strerror}",
                               [Evidence(source=source, detail=str(exc))], "network")
        status = grade(ms, label_float(target, "dns_warn_ms", 200), label_float(target, "dns_crit_ms", 1000))
        return self.result(status, f"{host} → {', '.join(addresses[:4])} in {ms:g} ms",
                           [Evidence(source=source, detail=", ".join(addresses), value=ms)], "network",
                           {"dns_ms": ms, "dns_addresses": float(len(addresses))})


CHECKS: tuple[type[ProbeCheck], ...] = (StatusCheck, LatencyCheck, ContentCheck, TlsCheck, DnsCheck)
