"""nginx checks: does the site answer (``nginx.http``) and is nginx dropping connections
(``nginx.stub_status``: accepts ≠ handled, active connections vs capacity).

Target: kind ``nginx``, address ``host:port``. Labels: ``url`` (the page to fetch, default
``http://<address>/``), ``expect_status`` (e.g. ``200`` or ``200,301``; default: anything below
400), ``status_url`` (stub_status URL or path, default ``/nginx_status``), ``max_connections``
(worker_processes × worker_connections, to judge active connections), ``timeout``, ``tls_verify``.
"""

from __future__ import annotations

import time
from typing import ClassVar

import httpx

from steadyops.contracts.checks import Check, grade, label_float, verdict, worst
from steadyops.contracts.memory import Remembers
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.nginx.parse import StubStatus, parse_stub_status
from steadyops.sources.probing import http_status_layer, locate_http_error, target_tls_context

OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN
TARGET_KIND = "nginx"
DEFAULT_STATUS_PATH = "/nginx_status"
RB_DOWN = "nginx/nginx-down.en.md"
RB_DROPPED = "nginx/nginx-accepts-handled.en.md"
RB_5XX = "nginx/nginx-5xx.en.md"


def base_url(target: Target) -> str:
    address = target.address.strip() or "127.0.0.1"
    return address.rstrip("/") if "://" in address else f"http://{address}"


def status_url(target: Target) -> str:
    raw = target.labels.get("status_url", DEFAULT_STATUS_PATH)
    return raw if "://" in raw else base_url(target) + "/" + raw.lstrip("/")


def http_client(target: Target) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=label_float(target, "timeout", 5.0), follow_redirects=False,
                             verify=target_tls_context(target),
                             headers={"User-Agent": "steadyops-inspect"})


def expected_status(target: Target, code: int) -> bool:
    raw = target.labels.get("expect_status", "").strip()
    if not raw:
        return code < 400
    return str(code) in {c.strip() for c in raw.split(",")}


class HttpCheck(Check):
    """GET the site: a refused connection is nginx down (process); 502/504 is its upstream failing while
    nginx itself answers (layer ``upstream``: diagnosis follows ``depends_on`` to the upstream); another
    5xx is nginx failing."""

    name: ClassVar[str] = "nginx.http"
    target_kind: ClassVar[str] = TARGET_KIND
    runbook: ClassVar[str | None] = RB_DOWN
    layer_runbooks: ClassVar[dict[str, str]] = {"upstream": RB_5XX}
    #: refused or hung, nginx itself is not serving: the target's liveness
    liveness: ClassVar[bool] = True

    async def run(self, target: Target) -> CheckResult:
        url = target.labels.get("url") or base_url(target) + "/"
        t0 = time.monotonic()
        try:
            async with http_client(target) as http:
                resp = await http.get(url)
        except httpx.HTTPError as exc:
            layer, what = locate_http_error(exc)
            return CheckResult(status=CRIT, summary=f"GET {url} failed: {what}", layer=layer,
                               evidence=[Evidence(source=f"GET {url}", detail=what)])
        ms = round((time.monotonic() - t0) * 1000, 1)
        detail = f"HTTP {resp.status_code} in {ms:g} ms; Server: {resp.headers.get('server', '-')}"
        if "location" in resp.headers:
            detail += f"; Location: {resp.headers['location'][:200]}"
        evidence = [Evidence(source=f"GET {url}", detail=detail, value=resp.status_code)]
        metrics = {"status_code": float(resp.status_code), "latency_ms": ms}
        if expected_status(target, resp.status_code):
            return CheckResult(status=OK, summary=f"HTTP {resp.status_code} in {ms:g} ms", evidence=evidence,
                               metrics=metrics)
        status = CRIT if resp.status_code >= 500 else WARN
        body = resp.text[:200].strip().replace("\n", " ")
        evidence.append(Evidence(source="response body (start)", detail=body))
        return CheckResult(status=status, summary=f"GET {url} answered HTTP {resp.status_code}, not the expected "
                           f"{target.labels.get('expect_status') or '< 400'}", evidence=evidence, metrics=metrics,
                           layer=http_status_layer(resp.status_code))


class StubCounters:
    """Previous stub_status counters per target, so "dropped" means *since the last check*: one
    registry's (the stub_status check's ``memory``), never another App's."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[float, StubStatus]] = {}

    def swap(self, target: str, now: float, stub: StubStatus) -> tuple[float, StubStatus] | None:
        previous = self.last.get(target)
        self.last[target] = (now, stub)
        if previous is None or stub.accepts < previous[1].accepts:  # first look, or nginx restarted
            return None
        return previous


class StubStatusCheck(Remembers[StubCounters], Check):
    """accepts − handled > 0 means connections were dropped (worker_connections or fds exhausted);
    new drops since the last check are critical, old ones a warning. Active vs ``max_connections``."""

    name: ClassVar[str] = "nginx.stub_status"
    target_kind: ClassVar[str] = TARGET_KIND
    runbook: ClassVar[str | None] = RB_DROPPED
    memory_type = StubCounters

    async def run(self, target: Target) -> CheckResult:
        url = status_url(target)
        try:
            async with http_client(target) as http:
                resp = await http.get(url)
        except httpx.HTTPError as exc:
            layer, what = locate_http_error(exc)
            return CheckResult(status=UNKNOWN, summary=f"cannot read stub_status at {url}: {what}", layer=layer,
                               evidence=[Evidence(source=f"GET {url}", detail=what)])
        try:
            if resp.status_code != 200:
                raise ValueError(f"HTTP {resp.status_code}")
            stub = parse_stub_status(resp.text)
        except ValueError as exc:
            return CheckResult(status=UNKNOWN, layer="config",
                               summary=f"no stub_status at {url} ({exc}); enable `stub_status;` in a location and "
                                       "set the target label status_url",
                               evidence=[Evidence(source=f"GET {url}", detail=resp.text[:200])])
        previous = self.memory.swap(target.name, time.monotonic(), stub)
        evidence = [Evidence(source=f"GET {url}", detail=" ".join(resp.text.split())[:300])]
        metrics = {k: float(v) for k, v in stub.as_dict().items()}
        notes = [f"{stub.active} active connections"]
        statuses = [OK]
        layer = "capacity"
        if previous is not None:
            then, old = previous
            window = max(time.monotonic() - then, 1e-3)
            metrics["requests_per_s"] = round((stub.requests - old.requests) / window, 2)
            new_drops = stub.dropped - old.dropped
            if new_drops > 0:
                statuses.append(CRIT)
                notes.append(f"{new_drops} connections dropped in the last {window:.0f}s (accepts ≠ handled): "
                             "worker_connections or the fd limit is exhausted")
            elif stub.dropped:
                statuses.append(WARN)
                notes.append(f"{stub.dropped} connections dropped since start, none since the last check")
        elif stub.dropped:
            statuses.append(WARN if stub.dropped < label_float(target, "dropped_crit", 100) else CRIT)
            notes.append(f"{stub.dropped} connections dropped since start (accepts {stub.accepts} ≠ handled "
                         f"{stub.handled}): worker_connections or the fd limit was exhausted")
        capacity = label_float(target, "max_connections", 0)
        if capacity > 0:
            pct = stub.active / capacity * 100
            metrics["active_pct"] = round(pct, 2)
            statuses.append(grade(pct, label_float(target, "active_warn_pct", 80),
                                  label_float(target, "active_crit_pct", 90)))
            notes[0] += f" ({pct:.0f}% of {capacity:g})"
        return verdict(worst(*statuses), "; ".join(notes), evidence, layer, metrics)


CHECKS: tuple[type[Check], ...] = (HttpCheck, StubStatusCheck)
