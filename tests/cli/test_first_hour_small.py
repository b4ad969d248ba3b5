"""Issue 16's smaller findings, each pinned: help text, aliases, a busy port, the log channel, zk headline."""

from __future__ import annotations

import functools
import logging
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from steadyops.cli import app as cli
from steadyops.cli.common import state
from steadyops.core.i18n import Lang, t
from steadyops.core.models import Alert, CheckStatus, Finding
from steadyops.integrations.zookeeper.diagnose import localise, render
from tests.harness.server import Server
from tests.harness.timeline import push

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)
    state._settings = None


def test_help_has_no_bool_type_on_help_and_shows_the_chinese_nouns() -> None:
    out = runner.invoke(cli, ["--help"]).stdout
    help_line = next(line for line in out.splitlines() if "--help" in line)
    assert "<bool>" not in help_line, help_line
    for noun in ("告警", "事件", "静默"):
        assert noun in out
    sub = runner.invoke(cli, ["事件", "--help"]).stdout
    assert "详情" in sub and "认领" in sub


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chinese_subcommands_work(make_app: Any, lang: Lang) -> None:
    app = make_app()
    with Server(app) as srv:
        sent = runner.invoke(cli, ["--lang", lang, *srv.args, "告警", "发送", "-l", "alertname=磁盘满",
                                   "-l", "instance=db-1"])
        assert sent.exit_code == 0, sent.output
        app.pipeline.process_sync()
        shown = runner.invoke(cli, ["--lang", lang, *srv.args, "事件", "详情", "1"])
        assert shown.exit_code == 0 and "磁盘满 @ db-1" in shown.stdout, shown.output
        timeline = shown.stdout.split(t("incident.timeline", lang))[1]
        assert t("incident.actor.system", lang) in timeline
        if lang == "zh":
            assert "system" not in timeline, timeline
        missing = runner.invoke(cli, ["--lang", lang, *srv.args, "事件", "详情", "99999"])
        assert missing.exit_code == 1
        expected = t("apierr.not_found", lang, what=t("apierr.what.incident", lang), id=99999)
        assert expected in missing.stderr and ("does not exist" in missing.stderr) == (lang == "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_busy_port_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: Lang) -> None:
    monkeypatch.setenv("STEADYOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["--lang", lang, "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        t("cli.error", lang, msg=t("cli.port_busy", lang, host="127.0.0.1", port=port))]
    assert not (tmp_path / "data" / "steadyops.db").exists()  # nothing was started


def test_the_log_channel_really_logs(make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    """With no receiver channels the notification is counted as sent on the "log" channel: it must be logged."""
    app = make_app()
    push(app, app.clock, Alert(labels={"alertname": "LoggedOnly", "severity": "warning"}, starts_at=app.clock.now()))
    app.pipeline.process_sync()
    app.clock.advance(400)  # past group_wait
    with caplog.at_level(logging.WARNING, logger="steadyops.pipeline.flush"):
        app.pipeline.process_sync()
    assert any("LoggedOnly" in r.getMessage() for r in caplog.records), caplog.text


def _finding(target: str, check: str, status: CheckStatus, *, kind: str = "zookeeper", layer: str = "") -> Finding:
    return Finding(check=check, target=target, target_kind=kind, status=status, summary=f"{check} {status}",
                   layer=layer, labels={"cluster": "zk-main"}, started_at=datetime(2026, 1, 1, tzinfo=UTC),
                   runbook="zookeeper/zk-health-check.en.md" if status.failing else None)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_zk_headline_agrees_with_the_report_and_cites_the_readers_runbook(lang: Lang) -> None:
    """One member of three down: the ensemble keeps quorum (WARNING) but the report header says CRITICAL;
    the zk检测 headline says critical too, with the service's verdict after it."""
    findings = [_finding("zk1", "zookeeper.ruok", CheckStatus.OK), _finding("zk3", "zookeeper.ruok", CheckStatus.OK),
                _finding("zk2", "zookeeper.ruok", CheckStatus.CRITICAL, layer="process")]
    for name in ("zk1", "zk2", "zk3"):
        findings.append(_finding(name, "zookeeper.quorum", CheckStatus.OK if name != "zk2" else CheckStatus.CRITICAL,
                                 layer="process"))
    report = localise(findings, cluster_sizes={"zk-main": 3})
    text = render(report, lang)
    headline = text.splitlines()[0]
    assert t(f"severity.{CheckStatus.CRITICAL.value}", lang) in headline or "critical" in headline.lower()
    if report.status is not CheckStatus.CRITICAL:
        assert ("服务整体" if lang == "zh" else "the service") in headline
    other = "en" if lang == "zh" else "zh"
    assert f".{other}.md" not in text and (f"zk-health-check.{lang}.md" in text or "zk-health-check" not in text)
