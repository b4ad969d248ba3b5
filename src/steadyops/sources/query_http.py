"""One GET for the read-only query APIs we pull evidence from (Prometheus, Jaeger).

Both speak JSON over HTTP with an optional bearer token, and a transport failure means the same
thing for either: the backend is unreachable, try again later (:class:`TransientError`). What a
status code or a body means differs per API, so each client reads the response itself.
"""

from __future__ import annotations

from typing import Any

import httpx

from steadyops.core.errors import TransientError

__all__ = ["query_get"]


def query_get(base_url: str, path: str, params: dict[str, Any], *, bearer_token: str | None, timeout: float,
              backend: str) -> httpx.Response:
    """``GET base_url + path``; a transport error becomes ``TransientError("<backend> unreachable: …")``."""
    headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
    try:
        return httpx.get(base_url.rstrip("/") + path, params=params, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise TransientError(f"{backend} unreachable: {type(exc).__name__}") from exc
