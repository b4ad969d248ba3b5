"""Request-scoped access to the composed App."""

from __future__ import annotations

from fastapi import Request

from steadyops.app import App


def get_app(request: Request) -> App:
    app: App = request.app.state.app
    return app
