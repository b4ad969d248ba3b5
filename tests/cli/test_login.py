"""``steadyops login`` / ``logout`` against a real server: a named token saved 0600 per server, then used."""

from __future__ import annotations

import functools
import json
import stat
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from steadyops.cli import app as cli
from steadyops.cli.common import state
from steadyops.cli.login import credentials_path
from steadyops.testing.auth import token_for
from tests.harness.server import Server

runner = CliRunner()
PASSWORD = "pa55word-for-tests"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    monkeypatch.delenv("STEADYOPS_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./data/admin.token to fall back on
    for field in ("lang_flag", "config_path", "server_flag", "token_flag", "_settings"):  # the CLI's global state
        monkeypatch.setattr(state, field, getattr(state, field))  # restored afterwards for the next test


def test_login_saves_a_named_token_that_later_commands_use(make_app: Any) -> None:
    with Server(make_app()) as srv:
        token_for(srv.core, "alice", "responder", password=PASSWORD)

        def run(*args: str, code: int = 0, stdin: str | None = None) -> Result:
            result = runner.invoke(cli, ["--lang", "en", "--server", srv.url, *args], input=stdin)
            assert result.exit_code == code, (result.output, result.exception)
            return result

        assert "HTTP 401" in run("users", "whoami", code=1).stderr
        assert "wrong user name or password" in run("login", "--user", "alice", "--password-stdin",
                                                    stdin="nope\n", code=1).stderr
        out = run("login", "--user", "alice", "--password-stdin", stdin=PASSWORD + "\n").stdout
        path = credentials_path()
        assert "as alice (responder)" in out and str(path) in out
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        saved = json.loads(path.read_text())["servers"][srv.url]
        assert saved["name"] == "alice" and saved["token"].startswith("so_")
        assert run("users", "whoami").stdout.startswith("alice (user, responder)")  # no --token needed
        tokens = json.loads(run("tokens", "list", "--format", "json").stdout)
        [session] = [t for t in tokens if t["kind"] == "session"]
        assert session["revoked_at"]  # the password session only minted the token
        [active] = [t for t in tokens if t["name"].startswith("cli on ")]
        assert active["kind"] == "api" and not active["revoked_at"] and saved["token"].split("_")[1] == active["key"]
        # the audit names alice and the credential of each step
        kinds = [(e.actor, e.kind, e.payload["credential"].split(":")[0]) for e in srv.core.audit.entries()]
        assert kinds[-3:] == [("alice", "login", "password"), ("alice", "token_created", "session"),
                              ("alice", "logout", "session")]
        # a file others can read is ignored, as ssh ignores such a key
        path.chmod(0o644)
        refused = run("users", "whoami", code=1)
        assert "others can read it" in refused.stderr and "HTTP 401" in refused.stderr
        path.chmod(0o600)
        # the token is kept for this server URL only: another URL (even the same server) never gets it
        other = runner.invoke(cli, ["--lang", "en", "--server", srv.url.replace("127.0.0.1", "localhost"),
                                    "users", "whoami"])
        assert other.exit_code == 1 and "HTTP 401" in other.stderr
        assert "revoked and removed" in run("logout").stdout
        assert srv.url not in json.loads(path.read_text())["servers"]
        assert "HTTP 401" in run("users", "whoami", code=1).stderr
        assert "no saved token" in run("logout", code=1).stderr


def test_login_keeps_a_given_token(make_app: Any) -> None:
    with Server(make_app()) as srv:
        bob = srv.token_for("bob", "viewer")
        result = runner.invoke(cli, ["--lang", "zh", "--server", srv.url, "--token", bob, "login"])
        assert result.exit_code == 0, result.output
        assert "已以 bob（viewer）登录" in result.stdout
        assert json.loads(credentials_path().read_text())["servers"][srv.url]["token"] == bob
