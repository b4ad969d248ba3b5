"""Fixtures for the HTTP API tests: an App on SQLite and the fake clock, and a client over ASGI.

The pipeline does not run in the background here (``run_pipeline=False``): tests drive it with
``app.pipeline.process_sync()`` so every assertion sees a known state, with no sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from steadyops.app import App
from steadyops.server import create_server
from steadyops.store import alerts as alerts_repo
from steadyops.testing.auth import admin_token, bearer

ClientFactory = Callable[..., httpx.AsyncClient]

#: ``make_client(app, token=ANON)``: a client that sends no credential
ANON = ""


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    clients: list[httpx.AsyncClient] = []

    def _make(app: App, token: str | None = None) -> httpx.AsyncClient:
        """A client authenticated as ``token`` (default: the first-start admin; ``ANON``: none)."""
        transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
        headers = bearer(admin_token(app) if token is None else token) if token != ANON else {}
        client = httpx.AsyncClient(transport=transport, base_url="http://steadyops.test", headers=headers)
        clients.append(client)
        return client

    yield _make
    for client in clients:
        await client.aclose()


@pytest.fixture
def app(make_app: Any) -> App:
    built: App = make_app()
    return built


@pytest.fixture
def client(app: App, make_client: ClientFactory) -> httpx.AsyncClient:
    return make_client(app)


@pytest.fixture
def stored(app: App) -> Callable[[], int]:
    """How many alert events the journal holds: the witness that a rejected body wrote nothing."""

    def _count() -> int:
        with app.store.transaction() as session:
            return alerts_repo.count_events(session)

    return _count
