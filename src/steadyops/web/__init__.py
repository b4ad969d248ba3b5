"""The web console (控制台): server-rendered pages in the API's own process.

Jinja2 templates, vendored htmx and a few lines of our own JavaScript; charts and the topology are
SVG drawn on the server. Every asset is served by steadyops itself (``/static``), so the console
and ``/docs`` work on an air-gapped network. Pages authenticate with the API's session cookie and
check the same roles as the API routes that do the same things.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from steadyops.web import (
    chat,
    dashboard,
    docs,
    incidents,
    inspections,
    kb,
    live,
    login,
    remediation,
    silences,
    topology,
)
from steadyops.web.render import render
from steadyops.web.session import LoginRequired, lang_of, login_redirect

STATIC = Path(__file__).parent / "static"
ROUTERS = (login, docs, dashboard, incidents, live, remediation, inspections, topology, silences, kb, chat)

Handler = Callable[[Request, Exception], Awaitable[Response]]

__all__ = ["install"]


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/mcp", "/static/")) and \
        "text/html" in request.headers.get("accept", "")


def page_errors(code: int, json_handler: Handler) -> Handler:
    """Console pages answer errors as pages (in the reader's language); API clients keep JSON."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not _wants_page(request):
            return await json_handler(request, exc)
        return render(request, "error.html.j2", lang=lang_of(request), status_code=code, code=code, detail=str(exc))

    return handle


def install(api: FastAPI, handlers: dict[type[Exception], tuple[int, Handler]]) -> None:
    """Mount the console on ``api``; ``handlers`` are the API's JSON error handlers to wrap."""
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in ROUTERS:
        api.include_router(module.router)

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if _wants_page(request) or request.method == "GET":
            return login_redirect(exc.next_path)
        return JSONResponse(status_code=401, content={"error": "Unauthenticated", "detail": "sign in first"})

    api.add_exception_handler(LoginRequired, to_login)
    for exc_type, (code, json_handler) in handlers.items():
        api.add_exception_handler(exc_type, page_errors(code, json_handler))


def error_page(request: Request, code: int, detail: str) -> HTMLResponse:
    return render(request, "error.html.j2", lang=lang_of(request), status_code=code, code=code, detail=detail)
