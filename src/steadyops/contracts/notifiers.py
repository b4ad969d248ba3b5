"""The Notifier contract: one class per vendor behind one interface.

The dispatcher (``pipeline/notify.py``) owns retries, backoff and the notification log; a
notifier only renders one :class:`Notification` for its vendor, sends it once and says whether a
retry could help. Rate limits are declared, not enforced here, so one limiter implementation
serves every vendor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import httpx
from pydantic import BaseModel

from steadyops.core.models import Delivery, Notification


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` messages per ``per_seconds`` for one channel instance."""

    count: int
    per_seconds: float


class Notifier(ABC):
    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    #: Largest body the vendor accepts, in bytes of UTF-8; the text is cut to fit.
    max_bytes: ClassVar[int | None] = None

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.client = client

    @abstractmethod
    async def send(self, message: Notification) -> Delivery:
        """Deliver once. Never raise for a vendor error: return ``Delivery(ok=False, …)``."""


def delivery_from_response(resp: httpx.Response, *, vendor_ok: bool | None = None, detail: str = "") -> Delivery:
    """Classify an HTTP answer: 429 and 5xx are retryable, other 4xx are not."""
    retry_after: float | None = None
    ra = resp.headers.get("retry-after")
    if ra:
        try:
            retry_after = float(ra)
        except ValueError:
            retry_after = None
    code = resp.status_code
    if code == 429 or code >= 500:
        return Delivery(ok=False, retryable=True, status_code=code, detail=detail or resp.text[:200],
                        retry_after=retry_after)
    if code >= 400:
        return Delivery(ok=False, retryable=False, status_code=code, detail=detail or resp.text[:200])
    if vendor_ok is False:
        return Delivery(ok=False, retryable=False, status_code=code, detail=detail or resp.text[:200])
    return Delivery(ok=True, status_code=code, detail=detail)


def truncate_utf8(text: str, max_bytes: int, marker: str = "\n…(truncated)") -> str:
    """Cut ``text`` so its UTF-8 encoding fits ``max_bytes``, never splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    budget = max_bytes - len(marker.encode("utf-8"))
    if budget <= 0:
        return data[:max_bytes].decode("utf-8", errors="ignore")
    return data[:budget].decode("utf-8", errors="ignore") + marker
