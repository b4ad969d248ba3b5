"""Every route declares the role it needs, and each role gets exactly what its rung allows.

Table-driven over the app's own OpenAPI document, so a route added tomorrow without
``me: Viewer`` (or another role from ``steadyops.auth``) fails here, and so does one whose check
lets the wrong role in. ``pytest -s`` prints the table.
"""

from __future__ import annotations

import re
from typing import Any

import fastapi.routing
import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from steadyops.app import App
from steadyops.auth import RoleCheck, allows
from steadyops.auth.roles import Role
from steadyops.server import create_server
from steadyops.testing.auth import bearer, token_for

CALLERS: list[Role | None] = [None, *Role]


def _checks(dep: Dependant) -> list[RoleCheck]:
    found = [dep.call] if isinstance(dep.call, RoleCheck) else []
    for sub in dep.dependencies:
        found.extend(c for c in _checks(sub) if c not in found)
    return found


def api_routes(api: FastAPI) -> list[Any]:
    """Every API route with its effective path (newer FastAPI keeps included routers lazily)."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # pragma: no cover - older FastAPI: routes are flat
        return [r for r in api.routes if isinstance(r, APIRoute)]
    return [c for c in iter_contexts(api.routes) if isinstance(c.original_route, APIRoute)]


def role_table(api: FastAPI) -> list[tuple[str, str, RoleCheck]]:
    """(method, path, check) for every operation in the OpenAPI document; fails on a route without one."""
    by_path: dict[tuple[str, str], Any] = {}
    for route in api_routes(api):
        for method in route.methods:
            by_path[(method.lower(), route.path)] = route
    table = []
    missing = []
    for path, ops in api.openapi()["paths"].items():
        for method in ops:
            checks = _checks(by_path[(method, path)].dependant)
            if len(checks) != 1:
                missing.append(f"{method.upper()} {path}: {len(checks)} role checks {checks}")
                continue
            table.append((method.upper(), path, checks[0]))
    assert not missing, "every route needs exactly one role dependency (steadyops.auth):\n" + "\n".join(missing)
    return table


def test_every_route_declares_exactly_one_role(make_app: Any) -> None:
    api = create_server(make_app(), run_pipeline=False)
    table = role_table(api)
    in_schema = {(m, p) for m, p, _ in table}
    hidden = [r for r in api_routes(api) if not r.include_in_schema]
    for route in hidden:  # routes left out of the document still need a role
        assert len(_checks(route.dependant)) == 1, route.path
    assert ("GET", "/api/v1/incidents") in in_schema and ("POST", "/api/v1/alerts/alertmanager") in in_schema


def test_a_route_without_a_role_fails_the_check(make_app: Any) -> None:
    api = create_server(make_app(), run_pipeline=False)

    @api.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    try:
        role_table(api)
    except AssertionError as exc:
        assert "GET /api/v1/forgotten: 0 role checks" in str(exc)
    else:  # pragma: no cover - the point of the test
        raise AssertionError("a route without a role passed the coverage check")


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_each_role_on_each_route(make_app: Any) -> None:
    """Anonymous → 401; a role below the route's → 403 ``Forbidden``; at or above → past the door."""
    app: App = make_app()
    api = create_server(app, run_pipeline=False)
    table = role_table(api)
    lines = [f"{'route':<52} {'needs':<10} " + " ".join(f"{(c or 'anon'):<9}" for c in CALLERS)]
    wrong = []
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for method, path, check in sorted(table, key=lambda r: (r[1], r[0])):
            cells = []
            for caller in CALLERS:
                headers = bearer(token_for(app, f"as-{caller}", caller)) if caller else {}
                body = {} if method in ("POST", "PUT", "PATCH") else None
                resp = await client.request(method, _concrete(path), headers=headers, json=body)
                denied = resp.status_code == 403 and resp.json().get("error") == "Forbidden"
                if check.role is None:
                    ok = resp.status_code not in (401,) and not denied
                elif caller is None:
                    ok = resp.status_code == 401 and "www-authenticate" in resp.headers
                elif allows(caller, check.role):
                    ok = resp.status_code != 401 and not denied
                else:
                    ok = denied
                cells.append(f"{resp.status_code}{'' if ok else '!'}")
                if not ok:
                    wrong.append(f"{method} {path} as {caller or 'anonymous'}: {resp.status_code} {resp.text[:200]}")
            need = check.role.value if check.role else "public"
            lines.append(f"{method + ' ' + path:<52} {need:<10} " + " ".join(f"{c:<9}" for c in cells))
    print("\n".join(lines))
    print(f"{len(table)} operations x {len(CALLERS)} callers; mismatches: {len(wrong)}")
    assert not wrong, "\n".join(wrong)


def test_the_document_declares_401_403_and_the_required_role(make_app: Any) -> None:
    api = create_server(make_app(), run_pipeline=False)
    doc = api.openapi()
    for method, path, check in role_table(api):
        op = doc["paths"][path][method.lower()]
        if check.role is None:
            assert "security" not in op and "x-required-role" not in op
        else:
            assert {"401", "403"} <= set(op["responses"]) and op["x-required-role"] == check.role.value, path
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "basic"}
    assert "415" in doc["paths"]["/api/v1/alerts/alertmanager"]["post"]["responses"]
