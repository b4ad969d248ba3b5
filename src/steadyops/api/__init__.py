"""The HTTP API, one router per noun. The OpenAPI document at ``/openapi.json`` is the contract.

:func:`install` puts the API on a FastAPI app; :func:`steadyops.server.create_server` builds that app
with the console (``web/``) beside it, so the API never imports the console that reuses its handlers.

Every route declares the role it needs through one dependency from :mod:`steadyops.auth`
(``me: Viewer`` …, or ``Public`` for the health probes); ``tests/api/test_route_roles.py`` fails
for a route that does not.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from steadyops.api import actions, alerts, chat, incidents, inspections, kb, silences, stats
from steadyops.api import auth as auth_api
from steadyops.api import canary as canary_api
from steadyops.api import changes as changes_api
from steadyops.api import oncall as oncall_api
from steadyops.api import reports as reports_api
from steadyops.api import slo as slo_api
from steadyops.app import App
from steadyops.auth import Public
from steadyops.auth.bootstrap import ensure_admin
from steadyops.auth.openapi import declare_auth
from steadyops.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    PluginError,
    Refused,
    TransientError,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)

#: exception → status code, for the API's JSON errors (and the console's error pages, which wrap them)
STATUS: list[tuple[type[Exception], int]] = [
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (ValidationFailed, 400),
    (PluginError, 400),  # an unknown action/check name in a request; the message suggests close names
    (NotFound, 404),
    (Conflict, 409),
    (Refused, 403),
    (TransientError, 503),
]


def install(api: FastAPI, app: App) -> None:
    """Put the API on ``api``: ``app`` in its state, the auth schemes, the JSON error handlers, the
    health probes and every router (the first start also creates the admin)."""
    api.state.app = app
    declare_auth(api)  # 401/403 and the security schemes on every protected operation
    ensure_admin(app.store, app.clock, app.settings.data_dir)  # first start only; serve prints it

    for exc_type, code in STATUS:
        api.add_exception_handler(exc_type, json_error(code))
    api.add_exception_handler(Unauthenticated, json_error(401))
    api.add_exception_handler(OperationalError, json_error(503))
    api.add_exception_handler(DBAPIError, json_error(503))

    @api.get("/healthz", tags=["health"])
    def healthz(_: Public) -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["health"])
    def readyz(_: Public) -> dict[str, str]:
        with app.store.transaction() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return {"status": "ready"}

    for module in (alerts, incidents, silences, stats, actions, chat, kb, inspections, auth_api):
        api.include_router(module.router)
    api.include_router(actions.audit_router)
    api.include_router(slo_api.router)
    api.include_router(slo_api.metrics_router)
    api.include_router(changes_api.router)
    api.include_router(oncall_api.router)
    api.include_router(reports_api.router)
    api.include_router(canary_api.router)


def json_error(code: int):  # type: ignore[no-untyped-def]
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        detail = str(exc) if code < 500 or isinstance(exc, TransientError) else "storage temporarily unavailable; retry"
        headers = {"WWW-Authenticate": 'Bearer realm="steadyops", Basic realm="steadyops"'} if code == 401 else None
        return JSONResponse(status_code=code, content={"error": type(exc).__name__, "detail": detail},
                            headers=headers)

    return handle
