"""Fixtures for tests that start real processes (see ``tests.harness.services``).

When a service's binary is missing the test is skipped, unless ``STEADYOPS_REQUIRE_SERVICES=1``
(``make test`` sets it, after installing the Debian packages) turns the skip into a failure so CI
can never pass by skipping the end-to-end tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from steadyops.testing.receiver import Receiver
from tests.harness.services import ServiceMissing, Services, find_binary, unavailable
from tests.harness.sshd import SshServer, start_sshd

PG_ADMIN_URL = os.environ.get("STEADYOPS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds (real processes, real timers)")


def _require(*services: str) -> None:
    """Skip (or fail, under STEADYOPS_REQUIRE_SERVICES=1) unless every named binary is installed."""
    for name in services:
        try:
            find_binary(name)
        except ServiceMissing as exc:
            unavailable(exc)


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    """A real OpenSSH server on loopback, shared by a module's tests."""
    try:
        server = start_sshd()
    except ServiceMissing as exc:
        unavailable(exc)
    with server:
        yield server


@pytest.fixture
def require() -> Callable[..., None]:
    """``require("prometheus", "alertmanager")`` at the top of a test: skip/fail if not installed."""
    return _require


@pytest.fixture
def services() -> Iterator[Services]:
    with Services() as started:
        yield started


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rx:
        yield rx


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own for one test, dropped (connections and all) afterwards."""
    import psycopg

    name = f"steadyops_it_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

