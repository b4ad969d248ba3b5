"""What the Prometheus checks share: the HTTP API client, auth by reference, failures located.

Prometheus is how the rest of the fleet is watched, so a failure here has a multiplier: a down
scrape target or a broken alerting rule means alerts that should fire silently do not. The checks
read only the documented HTTP API (``/api/v1/targets``, ``/api/v1/rules``, ``/-/ready``), which
Thanos, VictoriaMetrics and Mimir serve too.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from steadyops.contracts.checks import Check, label_float, verdict
from steadyops.core.credentials import CredentialError, resolve_secret
from steadyops.core.errors import Unanswered
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.sources.probing import locate_http_error, target_tls_context

TARGET_KIND = "prometheus"
DEFAULT_PORT = 9090


class PrometheusUnanswered(Unanswered):
    """The Prometheus API gave no usable answer; ``answered`` when the server itself replied."""

    def __init__(self, layer: str, message: str, *, answered: bool = False) -> None:
        super().__init__(message, layer=layer)
        self.answered = answered


def base_url(target: Target) -> str:
    """Label ``url``, else the address (``host:port`` → ``http://host:port``; a URL is kept)."""
    raw = (target.labels.get("url") or target.address or f"127.0.0.1:{DEFAULT_PORT}").rstrip("/")
    return raw if "://" in raw else f"http://{raw}"


def client(target: Target) -> httpx.AsyncClient:
    """Credentials: with label ``user`` basic auth, otherwise a bearer token (both by reference)."""
    secret = resolve_secret(target.credentials)
    auth: tuple[str, str] | None = None
    headers = {"User-Agent": "steadyops-inspect"}
    if secret is not None and target.labels.get("user"):
        auth = (target.labels["user"], secret)
    elif secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return httpx.AsyncClient(base_url=base_url(target), timeout=label_float(target, "timeout", 5.0), auth=auth,
                             headers=headers, verify=target_tls_context(target))


async def api(target: Target, path: str, params: dict[str, str] | None = None) -> Any:
    """``data`` of a successful API answer, or :class:`PrometheusUnanswered` located by why not."""
    try:
        async with client(target) as http:
            resp = await http.get(path, params=params)
    except CredentialError as exc:
        raise PrometheusUnanswered("config", str(exc)) from None
    except httpx.HTTPError as exc:
        layer, what = locate_http_error(exc)
        raise PrometheusUnanswered(layer, f"GET {base_url(target)}{path}: {what}",
                                   answered=layer == "process") from None
    if resp.status_code in (401, 403):
        raise PrometheusUnanswered("config", f"GET {path}: HTTP {resp.status_code}, check the credentials reference")
    try:
        body = resp.json()
    except ValueError:
        raise PrometheusUnanswered("config", f"GET {path}: HTTP {resp.status_code}, not a Prometheus API answer: "
                         f"{resp.text[:120]!r}") from None
    if body.get("status") != "success":
        raise PrometheusUnanswered("process",
                                   f"GET {path}: {body.get('errorType', '?')}: {body.get('error', '')[:200]}")
    return body.get("data")


class PromCheck(Check):
    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        try:
            return await self.judge(target)
        except PrometheusUnanswered as exc:
            return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot ask Prometheus: {exc}", layer=exc.layer,
                               evidence=[Evidence(source=base_url(target), detail=str(exc)[:500])])

    async def judge(self, target: Target) -> CheckResult:
        raise NotImplementedError

    result = staticmethod(verdict)


def scrape_layer(error: str) -> str:
    """Where a scrape failed, from Prometheus' lastError text."""
    low = error.lower()
    if "refused" in low:
        return "process"
    if "deadline exceeded" in low or "timeout" in low or "no route" in low or "no such host" in low:
        return "network"
    if "x509" in low or "tls" in low or "status 40" in low or "unsupported" in low or "parse" in low:
        return "config"
    return "network"
