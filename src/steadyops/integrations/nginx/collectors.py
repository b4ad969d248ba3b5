"""Read-only nginx snapshots (also agent tools): the stub_status counters and the site's response head.

Failures come back as data (``ok: false``, layer, reason) rather than exceptions, because
"refused" is exactly what an agent diagnosing an outage needs to read.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.integrations.nginx.checks import TARGET_KIND, base_url, http_client, status_url
from steadyops.integrations.nginx.parse import parse_stub_status
from steadyops.sources.probing import locate_http_error

HEADERS = ("server", "content-type", "content-length", "location", "cache-control", "date")


class StubStatusCollector(Collector):
    name: ClassVar[str] = "nginx.status_page"
    target_kind: ClassVar[str] = TARGET_KIND
    description: ClassVar[str] = ("nginx stub_status counters: active connections, accepts, handled, requests, "
                                  "reading / writing / waiting, dropped (accepts - handled)")

    async def collect(self, target: Target) -> Snapshot:
        url = status_url(target)
        data: dict[str, Any] = {"url": url}
        try:
            async with http_client(target) as http:
                resp = await http.get(url)
            data.update(ok=resp.status_code == 200, status_code=resp.status_code)
            if resp.status_code == 200:
                data["values"] = parse_stub_status(resp.text).as_dict()
        except httpx.HTTPError as exc:
            layer, what = locate_http_error(exc)
            data.update(ok=False, layer=layer, error=what)
        except ValueError as exc:
            data.update(ok=False, layer="config", error=str(exc))
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())


class HttpCollector(Collector):
    name: ClassVar[str] = "nginx.response"
    target_kind: ClassVar[str] = TARGET_KIND
    description: ClassVar[str] = ("One GET of the nginx site (label url): status code, latency, selected response "
                                  "headers and the first 500 characters of the body")

    async def collect(self, target: Target) -> Snapshot:
        url = target.labels.get("url") or base_url(target) + "/"
        data: dict[str, Any] = {"url": url}
        t0 = time.monotonic()
        try:
            async with http_client(target) as http:
                resp = await http.get(url)
            data.update(ok=True, status_code=resp.status_code, latency_ms=round((time.monotonic() - t0) * 1000, 1),
                        headers={h: resp.headers[h] for h in HEADERS if h in resp.headers}, body=resp.text[:500])
        except httpx.HTTPError as exc:
            layer, what = locate_http_error(exc)
            data.update(ok=False, layer=layer, error=what)
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())


COLLECTORS: tuple[type[Collector], ...] = (StubStatusCollector, HttpCollector)
