from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steadyops.app import App, build_app
from steadyops.config.settings import Settings
from steadyops.core.clock import FakeClock
from steadyops.integrations.host.actions import CleanLogs
from steadyops.plugins import Registry

PG_ADMIN_URL = os.environ.get("STEADYOPS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(tmp_path: Path, fake_clock: FakeClock) -> Iterator[Any]:
    """Build an App on a fresh SQLite file and the fake clock; settings overrides as kwargs."""
    apps: list[App] = []

    def _make(registry: Registry | None = None, **overrides: Any) -> App:
        overrides.setdefault("data_dir", tmp_path / f"data{len(apps)}")
        app = build_app(Settings(**overrides), clock=fake_clock, registry=registry or Registry())
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.close()


def _throwaway_pg() -> Iterator[str]:
    """Create a PostgreSQL database on the local server, yield its URL, drop it (skip if none is reachable)."""
    import psycopg

    name = f"steadyops_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database on the local server, shared by the session's tests."""
    yield from _throwaway_pg()


@pytest.fixture
def pg_url_own() -> Iterator[str]:
    """A throw-away PostgreSQL database for one test: empty (not migrated), and what the test leaves
    in it (open incidents, firing alerts) is seen by no other test."""
    yield from _throwaway_pg()

def make_logs(root: Path, n: int = 5, age_days: float = 10, size: int = 4096) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = []
    old = time.time() - age_days * 86400
    for i in range(n):
        p = root / f"app-{i}.log"
        p.write_bytes(os.urandom(size))
        os.utime(p, (old, old))
        files.append(p)
    fresh = root / "current.log"
    fresh.write_text("still being written\n")
    return files


@pytest.fixture
def remediation_app(make_app: Any, tmp_path: Path) -> Any:
    """An App whose inventory is one local host, with logs under an allow-listed directory."""
    inv = tmp_path / "inventory.yaml"
    inv.write_text("targets:\n  - {name: web-1, kind: host, address: 127.0.0.1, labels: {env: prod}}\n"
                   "  - {name: dev-1, kind: host, address: 127.0.0.2, labels: {env: dev, local: 'true'}}\n")
    logs = tmp_path / "logs"
    make_logs(logs)
    reg = Registry()
    reg.add_action(CleanLogs)
    app = make_app(
        registry=reg,
        inventory=inv,
        remediation={
            "policies": [
                {"actions": ["host.clean_logs"], "target_labels": {"env": "dev"}, "mode": "auto"},
                {"actions": ["host.clean_logs"], "target_labels": {"env": "prod"}, "mode": "two",
                 "approvers": ["alice", "bob", "carol"]},
            ],
            "allow": [{"actions": ["host.clean_logs"], "paths": [str(logs)]}],
            "approval_expiry": "30m",
        },
    )
    app.test_logs = logs
    return app
