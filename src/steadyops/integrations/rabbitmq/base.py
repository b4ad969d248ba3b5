"""What the RabbitMQ checks share: the management HTTP API, and a clear UNKNOWN when it is missing.

Everything but the AMQP port check reads the management plugin's API (``/api/...``). It is an
optional plugin, so "API unreachable" must never read as "broker down": the answer is UNKNOWN in
the *config* layer with the fix (enable ``rabbitmq_management`` or set ``api_url``), while
``rabbitmq.port`` independently says whether the broker itself is listening.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from steadyops.contracts.checks import Check, label_float, verdict
from steadyops.core.credentials import CredentialError, resolve_secret
from steadyops.core.errors import Unanswered
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.sources.probing import locate_http_error, target_tls_context

TARGET_KIND = "rabbitmq"
AMQP_PORT = 5672
API_PORT = 15672
ENABLE_HINT = "enable the management plugin (rabbitmq-plugins enable rabbitmq_management) or set the label api_url"


class ApiUnavailable(Unanswered):
    """The management API gave no usable answer; ``layer`` and the message say why."""

    def __init__(self, layer: str, message: str) -> None:
        super().__init__(message, layer=layer)


def api_url(target: Target) -> str:
    if target.labels.get("api_url"):
        return target.labels["api_url"].rstrip("/")
    host, _ = split_address(target.address, AMQP_PORT)
    return f"http://[{host}]:{API_PORT}" if ":" in host else f"http://{host}:{API_PORT}"


def vhost_path(target: Target) -> str:
    """``/<vhost>`` (URL-encoded; ``/`` is ``%2F``) when the label ``vhost`` scopes the target, else ``""``."""
    vhost = target.labels.get("vhost")
    return "/" + quote(vhost, safe="") if vhost else ""


async def api_get(target: Target, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET ``api_url + path`` as JSON, or :class:`ApiUnavailable` saying why not (never a bare error)."""
    user = target.labels.get("user", "guest")
    try:
        password = resolve_secret(target.credentials)
    except CredentialError as exc:
        raise ApiUnavailable("config", str(exc)) from None
    if password is None:
        password = "guest" if user == "guest" else ""
    url = api_url(target) + path
    try:
        async with httpx.AsyncClient(timeout=label_float(target, "timeout", 5.0), auth=(user, password),
                                     verify=target_tls_context(target)) as http:
            resp = await http.get(url, params=params)
    except httpx.HTTPError as exc:
        layer, what = locate_http_error(exc)
        if layer == "process":  # refused on the API port: the plugin, not necessarily the broker
            layer, what = "config", f"{what} at {url}; {ENABLE_HINT}"
        raise ApiUnavailable(layer, f"management API: {what}") from None
    if resp.status_code == 401:
        raise ApiUnavailable("config", f"management API refused user {user!r} (HTTP 401): check the credentials "
                             "reference and that the user has the monitoring tag")
    if resp.status_code == 404:
        raise ApiUnavailable("config", f"management API: {url} not found (HTTP 404); wrong api_url or vhost?")
    if resp.status_code >= 400:
        raise ApiUnavailable("process", f"management API answered HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError:
        raise ApiUnavailable("config", f"{url} did not answer JSON: is api_url the management API?") from None


class RabbitCheck(Check):
    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        try:
            return await self.judge(target)
        except ApiUnavailable as exc:
            return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot tell: {exc}", layer=exc.layer,
                               evidence=[Evidence(source=f"GET {api_url(target)}/api", detail=str(exc)[:500])])

    async def judge(self, target: Target) -> CheckResult:
        raise NotImplementedError

    result = staticmethod(verdict)
