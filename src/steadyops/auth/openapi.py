"""Declare what the role dependency can answer in the OpenAPI document, so the contract is honest.

Every route that needs a role can answer 401 (no or bad credential) and 403 (role too low); rather
than repeating that on each of them, the document is amended once from the same dependency the
route-coverage test looks for. The bearer and basic schemes are declared as security schemes too,
so generated clients and the interactive docs know how to authenticate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from steadyops.auth.deps import RoleCheck

_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}}}}
RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "No valid credential (missing, unknown, expired or revoked token)", **_ERROR},
    "403": {"description": "The credential's role does not allow this", **_ERROR},
}
SCHEMES = {"bearer": {"type": "http", "scheme": "bearer", "description": "an API or session token (so_…)"},
           "basic": {"type": "http", "scheme": "basic",
                     "description": "a token as the password (Alertmanager http_config.basic_auth), or a "
                                    "user's password"}}


def role_of(dependant: Dependant) -> RoleCheck | None:
    """The route's role dependency, searched through sub-dependencies."""
    if isinstance(dependant.call, RoleCheck):
        return dependant.call
    for sub in dependant.dependencies:
        found = role_of(sub)
        if found is not None:
            return found
    return None


def api_routes(api: FastAPI) -> Iterator[Any]:
    """Every API route with its effective path (newer FastAPI keeps included routers lazily)."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # older FastAPI: routes are flat
        yield from (r for r in api.routes if isinstance(r, APIRoute))
        return
    yield from (c for c in iter_contexts(api.routes) if isinstance(c.original_route, APIRoute))


def declare_auth(api: FastAPI) -> None:
    """Wrap ``api.openapi`` so each protected operation lists 401/403 and its security schemes."""
    build: Callable[[], dict[str, Any]] = api.openapi

    def openapi() -> dict[str, Any]:
        doc = build()
        if doc.get("x-steadyops-auth"):
            return doc
        doc.setdefault("components", {}).setdefault("securitySchemes", {}).update(SCHEMES)
        for route in api_routes(api):
            check = role_of(route.dependant)
            if check is None or check.role is None:
                continue
            for method in route.methods:
                op = doc.get("paths", {}).get(route.path, {}).get(method.lower())
                if op is None:
                    continue
                for code, body in RESPONSES.items():
                    op.setdefault("responses", {}).setdefault(code, body)
                op.setdefault("security", [{"bearer": []}, {"basic": []}])
                op["x-required-role"] = check.role.value
        doc["x-steadyops-auth"] = True
        return doc

    api.openapi = openapi  # type: ignore[method-assign]
