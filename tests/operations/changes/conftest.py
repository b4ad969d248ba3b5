from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from steadyops.app import App
from steadyops.server import create_server
from steadyops.testing.auth import admin_token, bearer

INVENTORY = {"targets": [
    {"name": "db", "kind": "host", "address": "10.0.0.5"},
    {"name": "api", "kind": "host", "address": "10.0.0.6", "depends_on": ["db"]},
    {"name": "web", "kind": "host", "address": "10.0.0.7", "depends_on": ["api"]},
    {"name": "batch", "kind": "host", "address": "10.0.0.8"},
]}


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(INVENTORY), encoding="utf-8")
    return path


@pytest.fixture
def app(make_app: Any, inventory_file: Path) -> App:
    built: App = make_app(inventory=inventory_file, lang="en")
    return built


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://steadyops.test",
                                 headers=bearer(admin_token(app))) as c:
        yield c
