"""A read-only client of the Jaeger query HTTP API, for trace evidence in diagnosis.

Only ``GET /api/services`` and ``GET /api/traces`` are called. The answers are returned as the JSON
Jaeger sends (``{"data": [...]}``); :mod:`steadyops.rca.live` turns them into spans, so this module
knows HTTP and nothing of root-cause analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steadyops.core.errors import TransientError, ValidationFailed
from steadyops.sources.query_http import query_get

__all__ = ["JaegerQuery"]


@dataclass(frozen=True)
class JaegerQuery:
    base_url: str
    bearer_token: str | None = None
    timeout: float = 5.0

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        resp = query_get(self.base_url, path, params, bearer_token=self.bearer_token, timeout=self.timeout,
                         backend="Jaeger")
        if resp.status_code in (400, 404, 422):
            raise ValidationFailed(f"Jaeger rejected {path}: HTTP {resp.status_code} {resp.text[:200]}")
        if resp.status_code != 200:
            raise TransientError(f"Jaeger answered HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError as exc:
            raise ValidationFailed(f"Jaeger answered {path} with something that is not JSON") from exc

    def services(self) -> list[str]:
        """Every service name Jaeger has spans of."""
        body = self._get("/api/services", {})
        data = body.get("data") if isinstance(body, dict) else None
        return [str(s) for s in data or []]

    def traces(self, service: str, start: datetime, end: datetime, limit: int) -> Any:
        """Traces with a span of ``service`` that started in [start, end], as Jaeger's JSON answer."""
        return self._get("/api/traces", {
            "service": service,
            "start": int(start.timestamp() * 1e6),  # Jaeger takes microseconds
            "end": int(end.timestamp() * 1e6),
            "limit": limit,
        })
