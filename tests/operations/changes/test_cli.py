"""``steadyops change`` against a real server: record, list, assess (with the exit code a pipeline gates on)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from steadyops.app import App
from steadyops.cli import app as cli
from tests.harness.server import Server

runner = CliRunner()


@pytest.fixture
def server(app: App) -> Iterator[Server]:
    with Server(app) as srv:
        yield srv


def _run(server: Server, lang: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--lang", lang, *server.args, *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_change_add_list_assess(server: Server) -> None:
    out = _run(server, "en", "change", "add", "-t", "api v2", "--target", "api", "--by", "alice",
               "--ticket", "OPS-1")
    assert out.startswith("Change ") and "0 maintenance silence(s)" in out
    listed = _run(server, "zh", "change", "list")
    assert "api v2" in listed and "OPS-1" in listed and "变更人" in listed
    rows = json.loads(_run(server, "en", "change", "list", "--format", "json"))
    assert rows[0]["author"] == "alice"
    # db has two dependents, no ticket, no rollback plan …: high risk, exit code 2
    risky = _run(server, "en", "change", "assess", "-t", "db failover", "--target", "db", "--target", "batch",
                 code=2)
    assert "Risk score" in risky and "2 target(s) depend on what changes: api, web" in risky
    assert "ticket incomplete: no rollback plan" in risky
    calm = _run(server, "zh", "change", "assess", "-t", "batch", "--target", "batch", "--by", "bob",
                "--ticket", "OPS-2", "--rollback-plan", "revert", "-m", "cron", "--start", "2026-01-06T02:00:00Z",
                "--end", "2026-01-06T03:00:00Z")
    assert "风险评分" in calm
