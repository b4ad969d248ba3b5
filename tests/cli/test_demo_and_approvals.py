"""The demo set-up (plan → approve → apply on fake logs) and the approval count as the policy sees it."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from steadyops.cli import app as cli
from steadyops.cli.common import state
from steadyops.config.settings import load_settings
from steadyops.core.errors import ConfigError
from steadyops.core.i18n import Lang, t
from steadyops.integrations import host as host_plugin
from steadyops.plugins import Registry
from steadyops.remediation import demo
from tests.harness.server import Server

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _build_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)
    state._settings = None


def _runner(srv: Server, lang: Lang) -> Any:
    """``run(*args, as_="alice")``: the CLI with that person's token (created with the role the name says)."""
    roles = {"dave": "responder", "alice": "approver", "bob": "approver", "carol": "approver"}

    def run(*args: str, code: int = 0, as_: str = "dave") -> str:
        token = srv.token_for(as_, roles[as_])
        result = runner.invoke(cli, ["--lang", lang, "--server", srv.url, "--token", token, *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output
    return run


def test_the_demo_config_file_turns_the_demo_on() -> None:
    settings = load_settings(REPO / "steadyops.demo.yaml")
    assert settings.demo is True


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_plan_approve_apply_touches_only_the_demo_directory(make_app: Any, lang: Lang) -> None:
    reg = Registry()
    host_plugin.register(reg)  # the demo acts through what the host integration registered for 磁盘清理
    app = make_app(registry=reg, demo=True)
    logs = demo.logs_dir(app.settings)
    assert sorted(p.name for p in logs.glob("*.log")) == sorted(demo._FILES)
    assert "demo" in app.inventory.targets
    with Server(app) as srv:
        run = _runner(srv, lang)
        out = run("act", "plan", "host.clean_logs", "-t", "demo", "-p", f"paths={logs}")
        assert t("act.status", lang, id=1, status=t("act.state.pending_approval", lang), got=0, need=2) in out
        # outside the demo directory the allow-list still says no
        run("act", "plan", "host.clean_logs", "-t", "demo", "-p", f"paths={logs.parent.parent}", code=1)
        assert "(1/2" in run("act", "approve", "1", as_="alice").replace("已审批 ", "(")
        # alice again is still one approver; the apply is refused
        assert "(1/2" in run("act", "approve", "1", as_="alice").replace("已审批 ", "(")
        run("act", "apply", "1", code=1)
        assert "(2/2" in run("act", "approve", "1", as_="bob").replace("已审批 ", "(")
        # a third approver does not make it 3/2
        assert "(2/2" in run("act", "approve", "1", as_="carol").replace("已审批 ", "(")
        done = run("act", "apply", "1").strip().splitlines()[-1]
        freed = re.findall(r"\d{4,}", done)
        assert len(freed) == 1, done  # the bytes freed are said once
    assert not list(logs.glob("*.log"))
    # the next start refills the demo directory
    demo.seed(app.settings)
    assert len(list(logs.glob("*.log"))) == len(demo._FILES)


def test_demo_policy_comes_first_and_leaves_everything_else_default_deny(make_app: Any) -> None:
    reg = Registry()
    host_plugin.register(reg)
    app = make_app(registry=reg, demo=True, remediation={"policies": [{"actions": ["*"], "mode": "two",
                                                                       "approvers": ["x", "y"]}]})
    policies = app.settings.remediation.policies
    assert policies[0].targets == ["demo"] and policies[0].actions == ["host.clean_logs"]
    assert policies[1].approvers == ["x", "y"]
    (allow, *_rest) = app.settings.remediation.allow
    assert allow.targets == ["demo"] and allow.paths == [str(demo.logs_dir(app.settings))]
    assert app.inventory.targets["demo"].labels["log_paths"] == str(demo.logs_dir(app.settings))
    assert make_app().settings.remediation.policies == []  # no demo: nothing added
    with pytest.raises(ConfigError, match="demo: true needs a cleanup for host targets"):
        make_app(demo=True)  # no host integration: the demo says so instead of naming an action that is not there
