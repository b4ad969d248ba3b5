"""拨测 mechanics: N tries of one URL (shared by the status, latency and content checks), the TLS
certificate of the endpoint, and DNS resolution time.

The three HTTP checks judge the *same* tries: each asking its own would triple the traffic to the
probed site and let the verdicts disagree about what happened. So one sweep's tries are cached
per target for a few seconds (label ``cache_s``; :class:`ProbeRuns`, one per registry) and awaited
through :func:`asyncio.shield`, so a check the runner cancels on timeout cannot cancel the tries its
siblings are waiting for.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from steadyops.contracts.checks import label_bool, label_float, label_int
from steadyops.contracts.memory import Remembers
from steadyops.core.inventory import Target
from steadyops.sources.probing import locate_http_error, target_tls_context, tls_context

MAX_BODY = 2 * 1024 * 1024  # enough for any page worth matching a keyword in
DEFAULT_TIMEOUT = 5.0  # seconds per try, and for the certificate and DNS questions
DEFAULT_TRIES = 3
DEFAULT_MAX_REDIRECTS = 5
DEFAULT_CACHE_S = 5.0


def timeout_of(target: Target) -> float:
    """Label ``timeout``: seconds one try (or one certificate / DNS question) may take."""
    return label_float(target, "timeout", DEFAULT_TIMEOUT)


def probe_url(target: Target) -> str:
    raw = (target.labels.get("url") or target.address).strip()
    return raw if "://" in raw else f"http://{raw}"


@dataclass(frozen=True)
class Attempt:
    elapsed_ms: float
    status: int | None = None  # None: no HTTP answer at all
    final_url: str = ""
    redirects: tuple[tuple[int, str], ...] = ()  # (status, url) of each hop before the final answer
    body: str = ""
    error: str = ""
    layer: str = ""
    timed_out: bool = False

    @property
    def answered(self) -> bool:
        return self.status is not None


@dataclass
class ProbeRun:
    url: str
    attempts: list[Attempt] = field(default_factory=list)
    finished: float = 0.0

    @property
    def answered(self) -> list[Attempt]:
        return [a for a in self.attempts if a.answered]

    def chain(self, attempt: Attempt) -> str:
        hops = " → ".join(f"{code} {url}" for code, url in attempt.redirects)
        return f"{hops} → {attempt.status} {attempt.final_url}" if hops else f"{attempt.status} {attempt.final_url}"


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default): with 3 tries p95 sits just below the max."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def _one(http: httpx.AsyncClient, url: str, method: str) -> Attempt:
    t0 = time.monotonic()
    try:
        async with http.stream(method, url) as resp:
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY:
                    break
            body = b"".join(chunks)[:MAX_BODY].decode(resp.encoding or "utf-8", "replace")
    except httpx.TooManyRedirects as exc:
        return Attempt(round((time.monotonic() - t0) * 1000, 1), error=f"too many redirects: {exc}", layer="config")
    except httpx.HTTPError as exc:
        layer, what = locate_http_error(exc)
        return Attempt(round((time.monotonic() - t0) * 1000, 1), error=what, layer=layer,
                       timed_out=isinstance(exc, httpx.TimeoutException))
    hops = tuple((r.status_code, str(r.url)) for r in resp.history)
    return Attempt(round((time.monotonic() - t0) * 1000, 1), resp.status_code, str(resp.url), hops, body)


async def run_probe(target: Target) -> ProbeRun:
    """The tries, sequential (parallel tries would measure the server's concurrency, not its latency);
    a first try that times out is the only one (a hung server: detected in one timeout, not three)."""
    url = probe_url(target)
    run = ProbeRun(url)
    async with httpx.AsyncClient(timeout=timeout_of(target),
                                 follow_redirects=label_bool(target, "follow_redirects", True),
                                 max_redirects=label_int(target, "max_redirects", DEFAULT_MAX_REDIRECTS),
                                 verify=target_tls_context(target), headers={"User-Agent": "steadyops-probe"}) as http:
        for i in range(max(1, label_int(target, "tries", DEFAULT_TRIES))):
            run.attempts.append(await _one(http, url, target.labels.get("method", "GET").upper()))
            if i == 0 and run.attempts[0].timed_out:
                # hung from the first try: each further try would only wait the full timeout again,
                # tripling the time to detect; a later timeout after answers still counts as flapping
                break
    run.finished = time.monotonic()
    return run


class ProbeRuns:
    """One registry's sweeps in flight (the probe classes' ``memory``): the tries for a target, started
    once and shared by its checks for ``cache_s`` seconds."""

    def __init__(self) -> None:
        self._runs: dict[tuple[int, str], asyncio.Task[ProbeRun]] = {}

    async def shared(self, target: Target) -> ProbeRun:
        """The current sweep's tries for ``target``: started once, reused for ``cache_s`` seconds."""
        loop = asyncio.get_running_loop()
        key = (id(loop), target.model_dump_json())
        ttl = label_float(target, "cache_s", DEFAULT_CACHE_S)
        now = time.monotonic()
        for k, old in list(self._runs.items()):  # forget finished runs past their time, and other loops' runs
            if k[0] != id(loop) or (old.done() and (old.cancelled() or old.exception() is not None
                                                    or now - old.result().finished > ttl)):
                del self._runs[k]
        task = self._runs.get(key)
        if task is None:
            task = self._runs[key] = loop.create_task(run_probe(target))
        return await asyncio.shield(task)


class UsesProbeRuns(Remembers[ProbeRuns]):
    """A probe check or collector: ``self.memory`` is its registry's :class:`ProbeRuns`."""

    memory_type = ProbeRuns


@dataclass(frozen=True)
class CertInfo:
    not_after: datetime
    subject: str
    issuer: str
    names: tuple[str, ...]
    verify_error: str  # "" when the chain and host name verified

    def days_left(self, now: datetime | None = None) -> float:
        return (self.not_after - (now or datetime.now(UTC))).total_seconds() / 86400


async def fetch_cert(target: Target, host: str, port: int, timeout: float) -> CertInfo:
    """The peer certificate, verified as configured; when verification fails it is fetched again
    without verification so the expiry is still known (an expired cert fails verification too)."""
    verify_error = ""
    try:
        der = await _peer_der(host, port, target_tls_context(target), timeout)
    except ssl.SSLCertVerificationError as exc:
        verify_error = str(exc.verify_message or exc)
        der = await _peer_der(host, port, tls_context(False), timeout)
    return _parse_der(der, verify_error)


async def _peer_der(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> bytes:
    server_hostname = host if ctx.check_hostname else None
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx, server_hostname=server_hostname),
                                       timeout)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return bytes(der)


def _parse_der(der: bytes, verify_error: str) -> CertInfo:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(n) for n in san.get_values_for_type(x509.DNSName)) + tuple(
            str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        names = ()
    return CertInfo(cert.not_valid_after_utc, cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), names,
                    verify_error)


def host_port(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    return parts.hostname or "", parts.port or (443 if scheme == "https" else 80), scheme


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int, timeout: float) -> tuple[list[str], float]:
    """Addresses and milliseconds the system resolver (what the probe's HTTP client uses) took."""
    t0 = time.monotonic()
    infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                   timeout)
    ms = round((time.monotonic() - t0) * 1000, 2)
    return sorted({str(info[4][0]) for info in infos}), ms
