"""Request-scoped access to the composed App."""

from __future__ import annotations

from fastapi import Request

from steadyops.app import App


async def get_app(request: Request) -> App:
    """Async on purpose: it does no I/O, and a sync dependency costs every request a hop to the thread pool."""
    app: App = request.app.state.app
    return app
