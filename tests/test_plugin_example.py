"""A minimal integration in one folder (tests/plugin_example) reaches every extension point it uses.

The folder holds the package and the ``.dist-info`` that ``pip install`` would write; putting it on
``sys.path`` is all "installing" takes. Nothing else in the repository names the widget: it shows
up in ``steadyops plugins``, in the ``do`` grammar and in an inspection report because it
registered itself through the ``steadyops.plugins`` entry point; its runbook is searchable too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steadyops.agent.commands import Grammar
from steadyops.app import build_app
from steadyops.cli import app as cli
from steadyops.cli.common import state
from steadyops.config.settings import Settings
from steadyops.plugins import load_plugins

EXAMPLE = Path(__file__).parent / "plugin_example"
runner = CliRunner()


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    state._settings = None
    yield
    state._settings = None


def test_the_widget_is_listed_by_steadyops_plugins(installed: None) -> None:
    out = runner.invoke(cli, ["--lang", "en", "plugins"])
    assert out.exit_code == 0, out.output
    listing = out.stdout[out.stdout.index("steadyops_widget:register"):]
    assert "checks: widget.alive" in listing and "actions: widget.reset" in listing
    assert "do phrases: widget_check (widget检测 / check widget)" in listing
    assert "disk cleanup: widget → widget.reset" in listing and "report sections: widget" in listing
    assert "runbooks: steadyops_widget/runbooks" in listing


def test_the_widget_words_are_in_the_grammar(installed: None) -> None:
    words = Grammar.from_registry(load_plugins())
    cmd = words.parse("widget检测 w1")
    assert (cmd.intent, cmd.kind, cmd.target) == ("widget_check", "widget", "w1")
    assert words.parse("巡检 小部件").kind == "widget" and "widget检测" in words.examples
    assert words.parse("zk检测").intent == "zk_check"  # the built-ins' words are still there


def test_widget_check_runs_and_the_report_has_the_widget_section(installed: None, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("targets:\n"
                         "  - {name: w1, kind: widget, labels: {state: ok}}\n"
                         "  - {name: w2, kind: widget, labels: {state: jammed}}\n"
                         "  - {name: r1, kind: redis, address: '127.0.0.1:1'}\n")
    config = tmp_path / "steadyops.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ninventory: {inventory}\n")
    out = runner.invoke(cli, ["--lang", "en", "--config", str(config), "do", "widget检测", "--local",
                              "--format", "json"])
    assert out.exit_code == 2, out.output  # w2 is jammed: critical
    report = json.loads(out.stdout)
    assert sorted((f["check"], f["target"], f["status"]) for f in report["findings"]) == [
        ("widget.alive", "w1", "ok"), ("widget.alive", "w2", "critical")]  # only the widgets: no redis
    (section,) = report["sections"]
    assert section["key"] == "widget" and section["body"]["en"] == "jammed widgets: w2"
    markdown = runner.invoke(cli, ["--lang", "zh", "--config", str(config), "do", "widget检测", "--local"])
    assert "小部件" in markdown.stdout and "卡住的小部件：w2" in markdown.stdout


def test_the_widget_runbook_is_in_the_knowledge_base(installed: None, tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path / "data"))
    try:
        (top, *_rest) = app.knowledge.search("widget jammed sprocket", 3)
    finally:
        app.close()
    assert top.source == "steadyops_widget/runbooks/widget-jammed.en.md"
