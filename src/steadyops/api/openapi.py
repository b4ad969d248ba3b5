"""The OpenAPI document as a contract a client (and Schemathesis) can hold us to.

Why a post-processing step rather than ``responses=`` on every route: errors are raised deep in the
application (``NotFound``, ``Refused``, ``Conflict``…) and mapped to status codes in one place
(``api.STATUS``), so which codes an operation can answer follows from what it is (it has a path id,
it changes state, it takes a raw body) — declared here from the same rules, once. Two more fixes:
bodies declared by hand (the intake routes read the raw body to enforce the size limit first) carry
pydantic's ``#/$defs/…`` references, which do not resolve from the document root; they are hoisted
into ``components/schemas``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error", "type": "object", "required": ["detail"],
    "properties": {"error": {"type": "string", "description": "the exception's name"},
                   "detail": {"description": "what was wrong, in words"}},
}
DESCRIPTIONS = {
    400: "Bad request: the detail names the problem (nothing was stored)",
    401: "No credential, or one that is wrong, expired or revoked",
    403: "Refused (policy, allow-list, approvals)",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body (or batch) larger than the configured limit",
    415: "Not a JSON body",
    503: "Storage or a dependency temporarily unavailable; retry",
}
#: (method regex, path regex) → codes besides 503 and the validation 422
RULES: list[tuple[str, str, set[int]]] = [
    (r".*", r"^/api/", {401, 403}),  # no or a bad credential; a role too low (steadyops.auth)
    (r"post", r"^/api/v1/alerts(/alertmanager)?$", {400, 413, 415}),
    (r"get", r"^/api/v1/(alerts|incidents)$", {400}),  # a cursor this server never gave out
    (r".*", r"^/api/v1/auth", {400, 404, 409}),
    (r".*", r"\{", {404}),
    (r"post|put|delete|patch", r"^/api/v1/(incidents|silences)", {400, 409}),
    (r".*", r"^/api/v1/actions", {400, 403, 404, 409}),
    (r".*", r"^/api/v1/(kb|chat|inspections|checks|slos)", {400, 404, 413}),
    (r"post", r"^/api/v1/silences$", {400}),
    (r".*", r"^/api/v1/(changes|oncall|reports)", {400, 403, 404, 409, 413}),
]
_NO_STORAGE = {"/healthz"}


def _hoist_defs(doc: dict[str, Any]) -> None:
    """Move ``$defs`` of hand-declared request bodies into ``components/schemas``; rewrite their refs."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for media in (op.get("requestBody", {}).get("content", {}) or {}).values():
                schema = media.get("schema", {})
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
    text = re.sub(r'"#/\$defs/([^"]+)"', r'"#/components/schemas/\1"', json.dumps(doc))
    doc.clear()
    doc.update(json.loads(text))


def _no_null_queries(doc: dict[str, Any]) -> None:
    """An optional query parameter is absent, never ``null`` (a query string cannot say null): drop the branch."""
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
                if param.get("in") == "query" and len(branches) == 1 and len(schema["anyOf"]) == 2:
                    param["schema"] = {**{k: v for k, v in schema.items() if k != "anyOf"}, **branches[0]}


def _lax_times(doc: dict[str, Any]) -> None:
    """A ``date``/``date-time`` query parameter also takes a Unix timestamp (pydantic's lax mode): say so."""
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                for branch in [schema, *schema.get("anyOf", [])]:
                    if param.get("in") == "query" and branch.get("format") in ("date", "date-time"):
                        alternatives = [b for b in schema.get("anyOf", [schema]) if b is not branch]
                        param["schema"] = {"anyOf": [branch, {"type": "number", "description": "Unix seconds"},
                                                     *alternatives],
                                           **{k: v for k, v in schema.items() if k not in ("anyOf", "type", "format")}}
                        break


def _declare_errors(doc: dict[str, Any]) -> None:
    doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            codes = set() if path in _NO_STORAGE else {503}
            if "requestBody" in op:  # a body that is not JSON at all
                codes.add(400)
            for m, p, extra in RULES:
                if re.fullmatch(m, method) and re.search(p, path):
                    codes |= extra
            responses = op.setdefault("responses", {})
            if "422" in responses:  # pydantic's list of errors, or a route's own 422 with a sentence
                media = responses["422"].setdefault("content", {}).setdefault("application/json", {})
                media["schema"] = {"anyOf": [media.get("schema", {"$ref": "#/components/schemas/HTTPValidationError"}),
                                             ref]}
            for code in sorted(codes):
                responses.setdefault(str(code), {"description": DESCRIPTIONS[code],
                                                 "content": {"application/json": {"schema": ref}}})


def install(api: FastAPI) -> None:
    """Replace ``api.openapi`` with the corrected document (built once, cached like FastAPI's), and make a
    405's ``Allow`` list every method of the path (Starlette names only the first route's)."""
    plain = api.openapi

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            path = request.scope["path"]
            allowed = sorted({m for route in api.router.routes if (rx := getattr(route, "path_regex", None))
                              and rx.match(path) for m in (getattr(route, "methods", None) or ())})
            exc = HTTPException(405, exc.detail, headers={"Allow": ", ".join(allowed)})
        return await http_exception_handler(request, exc)

    api.add_exception_handler(HTTPException, method_not_allowed)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            doc = plain()
            _hoist_defs(doc)
            _no_null_queries(doc)
            _lax_times(doc)
            _declare_errors(doc)
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
