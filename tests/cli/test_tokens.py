"""``steadyops users`` and ``steadyops tokens`` against a real server: create, use, scope, revoke."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from steadyops.cli import app as cli
from tests.harness.server import Server

runner = CliRunner()


@pytest.fixture(autouse=True)
def _build_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_users_and_tokens_lifecycle(make_app: Any, lang: str) -> None:
    with Server(make_app()) as srv:
        def run(*args: str, token: str | None = None, code: int = 0) -> Result:
            result = runner.invoke(cli, ["--lang", lang, "--server", srv.url, "--token", token or srv.token, *args])
            assert result.exit_code == code, (result.output, result.exception)
            return result

        assert "alice" in run("users", "create", "alice", "--role", "approver").stdout
        run("users", "create", "alertmanager", "--service", "--role", "ingest")
        made = run("tokens", "create", "--for", "alice", "--name", "laptop", "--format", "json").stdout
        alice = json.loads(made)["token"]
        assert run("users", "whoami", token=alice).stdout.startswith("alice (user, approver)")
        scoped = json.loads(run("tokens", "create", "--role", "viewer", "--ttl", "1h", "--format", "json",
                                token=alice).stdout)
        assert scoped["role"] == "viewer" and scoped["expires_at"]
        assert "HTTP 403" in run("tokens", "create", "--role", "admin", token=alice, code=1).stderr
        assert "HTTP 403" in run("users", "list", token=alice, code=1).stderr  # admin only
        listed = run("tokens", "list", "--format", "json", token=alice).stdout
        assert {t["owner"] for t in json.loads(listed)} == {"alice"}  # only her own
        run("tokens", "revoke", json.loads(made)["key"])
        assert "HTTP 401" in run("users", "whoami", token=alice, code=1).stderr
        run("users", "set", "alice", "--disable")
        assert "HTTP 401" in run("users", "whoami", token=scoped["token"], code=1).stderr
        assert "alertmanager" in run("users", "list").stdout
        entries = [(e.actor, e.kind, e.payload["credential"]) for e in srv.core.audit.entries()]
        kinds = {k for _, k, _ in entries}
        assert {"principal_created", "token_created", "token_revoked", "principal_updated"} <= kinds
        assert all(c.startswith("token:") for _, _, c in entries)  # who, and with which credential
        assert ("alice", "token_created") in {(a, k) for a, k, _ in entries}
