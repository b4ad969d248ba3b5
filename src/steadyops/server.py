"""The HTTP server: one FastAPI app with the API (``api/``) and the console (``web/``) in it.

It sits above both so that neither imports the other to be mounted: the console reuses the API's
handlers (audit, chat, incident detail) and wraps its JSON error handlers as pages, and the API
knows nothing of the console. With ``run_pipeline`` the in-process engine runs inside the app's
lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from steadyops import __version__, api, web
from steadyops.api import openapi as openapi_doc
from steadyops.app import App


def create_server(app: App, *, run_pipeline: bool = True) -> FastAPI:
    """Build the HTTP app; with ``run_pipeline`` the in-process engine (pipeline, scheduler, investigation
    hook: :meth:`App.run`) runs inside its lifespan."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop)) if run_pipeline else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await app.shutdown()

    server = FastAPI(title="steadyops", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                     description="Alert intake, convergence into incidents, silences and notifications.")
    api.install(server, app)
    web.install(server, {exc_type: (code, api.json_error(code)) for exc_type, code in api.STATUS})
    openapi_doc.install(server)
    return server
