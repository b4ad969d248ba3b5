"""PostgreSQL failure location: psycopg gives no SQLSTATE before a session exists, so the layer
is read from libpq's message; these are the messages a real server and libpq write."""

from __future__ import annotations

import psycopg
import pytest

from steadyops.core.credentials import CredentialError
from steadyops.core.inventory import Target, split_address
from steadyops.integrations.postgres.base import DEFAULT_PORT, databases, describe_error


@pytest.mark.parametrize(("message", "layer", "answered"), [
    ('connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server '
     "running on that host and accepting TCP/IP connections?", "process", True),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  sorry, too many clients '
     "already", "capacity", True),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  too many connections for '
     'role "app"', "capacity", True),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  remaining connection slots '
     "are reserved for non-replication superuser connections", "capacity", True),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  the database system is '
     "starting up", "process", True),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication '
     'failed for user "app"', "config", False),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "nope" does not '
     "exist", "config", False),
    ("connection timeout expired", "network", False),
])
def test_connect_failures_are_located(message: str, layer: str, answered: bool) -> None:
    failure = describe_error(psycopg.OperationalError(message))
    assert failure is not None and (failure.layer, failure.answered) == (layer, answered)
    assert "\n" not in failure.what


def test_other_errors() -> None:
    assert describe_error(CredentialError("env:PGPASS is not set")) is not None
    assert describe_error(RuntimeError("a bug")) is None  # the runner reports bugs, we do not hide them


def test_scoping_and_addresses() -> None:
    assert databases(Target(name="p", kind="postgres", labels={"databases": "app, billing ,"})) == ["app", "billing"]
    assert databases(Target(name="p", kind="postgres")) is None
    assert split_address("db.internal", DEFAULT_PORT) == ("db.internal", 5432)
    assert split_address("[::1]:6432", DEFAULT_PORT) == ("::1", 6432)
