"""``steadyops act`` and ``steadyops audit`` end to end: plan shown first, approvals, apply, verify."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from sqlalchemy import text
from typer.testing import CliRunner

from steadyops.cli import app as cli
from steadyops.cli.common import state
from tests.harness.server import Server

runner = CliRunner()


@pytest.fixture(autouse=True)
def _build_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)
    state._settings = None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plan_approve_apply_and_audit(remediation_app: Any, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = remediation_app
    with Server(app) as srv:
        def run(*args: str, code: int = 0) -> str:
            result = runner.invoke(cli, ["--lang", lang, "--server", srv.url, *args])  # --token per step
            assert result.exit_code == code, (result.output, result.exception)
            return result.output

        dave, alice, bob = (["--token", srv.token_for(n, r)] for n, r in (
            ("dave", "responder"), ("alice", "approver"), ("bob", "approver")))
        out = run(*dave, "act", "plan", "host.clean_logs", "--target", "web-1", "--param", f"paths={app.test_logs}")
        assert ("处置计划 #1" if lang == "zh" else "Plan #1") in out
        assert "app-0.log" in out and ("待审批" if lang == "zh" else "waiting for approval") in out
        run(*dave, "act", "apply", "1", code=1)
        run(*alice, "act", "approve", "1", "--reason", "disk 95%")
        out = run(*bob, "act", "approve", "1", "--reason", "ok")
        assert ("已批准" if lang == "zh" else "approved") in out
        out = run(*dave, "act", "apply", "1")
        assert ("完成" if lang == "zh" else "Done") in out and "20480" in out
        assert sorted(p.name for p in app.test_logs.iterdir()) == ["current.log"]
        assert "succeeded" in run(*dave, "act", "status", "1", "--format", "json")
        verified = run(*dave, "audit", "verify")  # the server's log, through the API
        assert ("审计日志完整" if lang == "zh" else "intact") in verified

    monkeypatch.setenv("STEADYOPS_DATA_DIR", str(app.settings.data_dir))
    result = runner.invoke(cli, ["--lang", lang, "audit", "verify", "--local"])
    assert result.exit_code == 0, result.output
    assert "[--local]" in result.stderr
    cp = Path(app.settings.data_dir) / "checkpoint.json"
    assert runner.invoke(cli, ["audit", "checkpoint", str(cp)]).exit_code == 0
    with app.store.engine.begin() as c:
        c.execute(text("DROP TRIGGER audit_log_no_update"))
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
    state._settings = None
    result = runner.invoke(cli, ["--lang", lang, "audit", "verify", "--checkpoint", str(cp)])
    assert result.exit_code == 2
    assert "#3" in result.output
