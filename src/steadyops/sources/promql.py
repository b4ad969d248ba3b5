"""A read-only Prometheus HTTP API client, for diagnosis evidence and the agent's PromQL tool.

Only ``/api/v1/query`` and ``/api/v1/query_range`` are ever called (GET), so handing this to an
LLM as a tool cannot change anything in Prometheus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steadyops.core.errors import TransientError, ValidationFailed
from steadyops.sources.query_http import query_get

Series = tuple[dict[str, str], list[tuple[float, float]]]


@dataclass(frozen=True)
class PromQL:
    base_url: str
    bearer_token: str | None = None
    timeout: float = 5.0

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        resp = query_get(self.base_url, path, params, bearer_token=self.bearer_token, timeout=self.timeout,
                         backend="Prometheus")
        if resp.status_code == 400 or resp.status_code == 422:
            raise ValidationFailed(f"PromQL rejected: {resp.json().get('error', resp.text)[:300]}")
        if resp.status_code != 200:
            raise TransientError(f"Prometheus answered HTTP {resp.status_code}")
        body = resp.json()
        if body.get("status") != "success":
            raise ValidationFailed(f"PromQL error: {body.get('error', 'unknown')}")
        return body["data"]

    def query(self, q: str, at: datetime | None = None) -> list[Series]:
        params: dict[str, Any] = {"query": q}
        if at is not None:
            params["time"] = at.timestamp()
        data = self._get("/api/v1/query", params)
        if data.get("resultType") == "scalar":
            t, v = data["result"]
            return [({}, [(float(t), float(v))])]
        return [(dict(r["metric"]), [(float(r["value"][0]), float(r["value"][1]))]) for r in data["result"]]

    def query_range(self, q: str, start: datetime, end: datetime, step: float) -> list[Series]:
        data = self._get("/api/v1/query_range", {"query": q, "start": start.timestamp(), "end": end.timestamp(),
                                                  "step": step})
        return [(dict(r["metric"]), [(float(t), float(v)) for t, v in r["values"]]) for r in data["result"]]


def host_regex(address: str) -> str:
    """An ``instance=~`` regex for a target: its host with any port (``10.0.0.5(:[0-9]+)?``)."""
    from steadyops.core.inventory import split_address

    try:
        host, _port = split_address(address, 0)
    except ValueError:
        host = address
    return re.escape(host).replace("\\", "\\\\") + "(:[0-9]+)?"
