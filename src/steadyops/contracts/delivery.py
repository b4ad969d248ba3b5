"""Delivery plumbing every notifier shares: POST JSON safely, classify answers, keep secrets out.

A vendor robot (DingTalk, WeCom, Feishu, Slack) *is* a webhook with a vendor-shaped body, so
the one place that knows how to POST JSON safely is shared by all of them, and "safely" means the
same three things for every vendor:

* the body is cut to the vendor's byte limit *after* JSON escaping (:func:`fit_json`), because
  the vendor measures the bytes it receives, not the characters we meant to send;
* a transport error becomes a retryable :class:`Delivery` whose detail names only the vendor and
  host, because httpx's own exception text contains the full URL and robot URLs embed tokens;
* secrets are registered with a filter on the ``httpx`` logger (:func:`guard_secrets`), whose
  INFO line ``HTTP Request: POST <url>`` would otherwise print the token of every robot.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from pydantic import BaseModel, SecretStr

from steadyops.contracts.notifiers import Notifier, delivery_from_response, truncate_utf8
from steadyops.core.models import AlertStatus, Delivery, Notification, Severity

logger = logging.getLogger(__name__)

C = TypeVar("C", bound=BaseModel)

_REDACTED = "***"
_MIN_SECRET_LEN = 6


def coerce_config(cls: type[C], config: BaseModel) -> C:
    """Accept the notifier's own Config, or any model carrying its fields (a channel entry).

    A channel entry from steadyops.yaml carries ``type`` (which plugin) beside the plugin's own
    keys; ``type`` is the core's, so it is dropped before the strict validation that catches typos.
    """
    if isinstance(config, cls):
        return config
    data = config.model_dump()
    data.pop("type", None)
    return cls.model_validate(data)


class _SecretFilter(logging.Filter):
    """Masks registered secrets in records of a logger we do not own (httpx)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = tuple(self._secrets)
        if secrets:
            message = record.getMessage()
            cleaned = scrub(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = _SecretFilter()
_INSTALL_LOCK = threading.Lock()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a secret (longest first, so overlaps mask fully)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def _url_parts(value: str) -> list[str]:
    # A robot URL's secret is its path (Slack, Feishu) or a query value (DingTalk, WeCom).
    if "://" not in value:
        return []
    parts = urlsplit(value)
    found = [parts.path] if len(parts.path) > 1 else []
    found += [v for _, v in parse_qsl(parts.query)]
    if parts.password:
        found.append(parts.password)
    return found


def guard_secrets(config: BaseModel) -> tuple[str, ...]:
    """Collect every ``SecretStr`` in ``config`` and mask them in httpx's log lines from now on.

    Returns the strings (raw and percent-encoded) so a notifier can also scrub its own details.
    """
    raw: list[str] = []
    for value in config.__dict__.values():
        items: Iterable[Any] = (
            value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else (value,)
        )
        for item in items:
            if isinstance(item, SecretStr):
                # For a URL, mask the token-bearing parts and keep the host readable in logs.
                secret = item.get_secret_value()
                parts = [p for p in _url_parts(secret) if len(p) >= _MIN_SECRET_LEN]
                raw += parts or [secret]
    found = {s for s in raw if len(s) >= _MIN_SECRET_LEN}
    found |= {quote(s, safe="") for s in found}
    with _INSTALL_LOCK:
        httpx_logger = logging.getLogger("httpx")
        if _FILTER not in httpx_logger.filters:
            httpx_logger.addFilter(_FILTER)
    _FILTER.add(found)
    return tuple(found)


def dumps(payload: object) -> bytes:
    """Compact UTF-8 JSON: Chinese stays 3 bytes a character instead of a 6-byte ``\\uXXXX``."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fit_json(render: Callable[[str], object], text: str, max_bytes: int | None) -> bytes:
    """Encode ``render(text)``, cutting ``text`` until the whole body fits ``max_bytes``.

    Escaping (newlines, quotes, backslashes) makes the text grow in the body, by a ratio that
    depends on the text; so each round scales the byte budget by how far the last try overshot.
    """
    body = dumps(render(text))
    if max_bytes is None or len(body) <= max_bytes:
        return body
    overhead = len(dumps(render("")))
    room = max_bytes - overhead
    budget = len(text.encode("utf-8"))
    for _ in range(20):
        budget = min(budget - 1, budget * room // max(len(body) - overhead, 1))
        if budget <= 0:
            break
        body = dumps(render(truncate_utf8(text, budget)))
        if len(body) <= max_bytes:
            return body
    return dumps(render(""))


def status_line(message: Notification) -> str:
    """A short, language-neutral marker: what a reader needs before the title."""
    if message.status is AlertStatus.RESOLVED:
        return "✅ RESOLVED"
    icon = {Severity.CRITICAL: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}[message.severity]
    return f"{icon} {message.severity.value.upper()}"


async def post_json(
    notifier: Notifier,
    url: str | httpx.URL,
    body: bytes,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response | Delivery:
    """POST once; a failure to get any answer comes back as a :class:`Delivery`.

    Details are built here, never taken from the exception, whose text carries the URL.
    """
    vendor = notifier.name
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        return Delivery(ok=False, retryable=False, detail=f"{vendor}: the configured URL is invalid")
    host = target.host or "?"
    sent_headers = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    try:
        if notifier.client is not None:
            resp = await notifier.client.post(target, content=body, headers=sent_headers, timeout=timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout) as client:
                resp = await client.post(target, content=body, headers=sent_headers)
    except httpx.UnsupportedProtocol:
        return Delivery(ok=False, retryable=False, detail=f"{vendor}: the configured URL is not http(s)")
    except httpx.TimeoutException as exc:
        logger.info("%s: %s talking to %s", vendor, type(exc).__name__, host)
        return Delivery(ok=False, retryable=True, detail=f"{vendor}: timed out talking to {host}")
    except httpx.TransportError as exc:
        logger.info("%s: %s talking to %s", vendor, type(exc).__name__, host)
        return Delivery(ok=False, retryable=True, detail=f"{vendor}: {type(exc).__name__} talking to {host}")
    except httpx.HTTPError as exc:  # redirects, decoding: the answer itself is unusable
        return Delivery(ok=False, retryable=False, detail=f"{vendor}: {type(exc).__name__} from {host}")
    logger.debug("%s: HTTP %d from %s", vendor, resp.status_code, host)
    return resp


def http_delivery(vendor: str, resp: httpx.Response, secrets: Iterable[str]) -> Delivery:
    """Classify by HTTP status alone (Slack, generic receivers), with a scrubbed detail."""
    if resp.is_success:
        return delivery_from_response(resp)
    detail = scrub(f"{vendor}: HTTP {resp.status_code}: {resp.text[:200]}", secrets)
    return delivery_from_response(resp, detail=detail)


def code_delivery(
    vendor: str,
    resp: httpx.Response,
    secrets: Iterable[str],
    *,
    code_keys: tuple[str, ...],
    message_keys: tuple[str, ...],
    retryable_codes: frozenset[int],
) -> Delivery:
    """Classify a robot that answers HTTP 200 with ``{"errcode": n}``-style bodies.

    A "send too fast" code is retryable whatever the HTTP status; other non-zero codes are final.
    """
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        if not resp.is_success:
            return http_delivery(vendor, resp, secrets)
        return Delivery(ok=False, retryable=False, status_code=resp.status_code,
                        detail=f"{vendor}: HTTP {resp.status_code} without a JSON answer")
    code = next((data[k] for k in code_keys if k in data), None)
    text = next((str(data[k]) for k in message_keys if k in data), "")
    detail = scrub(f"{vendor}: code {code}: {text[:200]}", secrets)
    if isinstance(code, int) and code in retryable_codes:
        return Delivery(ok=False, retryable=True, status_code=resp.status_code, detail=detail)
    if not resp.is_success:
        return delivery_from_response(resp, detail=detail)
    if code != 0:
        return Delivery(ok=False, retryable=False, status_code=resp.status_code, detail=detail)
    return Delivery(ok=True, status_code=resp.status_code)


