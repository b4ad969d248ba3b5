"""``steadyops kb add|search|list|remove`` through a real server on a temporary data directory (and
``--local`` on it directly), in both languages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from steadyops.app import build_app
from steadyops.cli import _root
from steadyops.cli import kb as kb_cli
from steadyops.cli.common import state
from steadyops.config.settings import Settings
from steadyops.plugins import Registry
from tests.harness.server import Server

runner = CliRunner()


def cli_app() -> typer.Typer:
    cli = typer.Typer()
    cli.callback()(_root)
    cli.add_typer(kb_cli.app, name="kb")
    return cli


CLI = cli_app()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    saved = state._settings
    state._settings = Settings(data_dir=tmp_path / "data")
    core = build_app(state._settings, registry=Registry())
    with Server(core) as srv:
        monkeypatch.setenv("STEADYOPS_SERVER", srv.url)
        monkeypatch.setenv("STEADYOPS_TOKEN", srv.token)
        yield tmp_path / "data"
    core.close()
    state._settings = saved


def run(*args: str, code: int = 0, lang: str = "en") -> Result:
    result = runner.invoke(CLI, ["--lang", lang, "kb", *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_search_builtin_runbooks_table_and_json(data_dir: Path) -> None:
    table = run("search", "zk 磁盘满了 快照怎么清理", "-k", "3", lang="zh").stdout
    assert "来源" in table and "章节" in table
    assert "integrations/zookeeper/runbooks/zk-disk-cleanup.zh.md" in table
    hits = json.loads(run("search", "Xid 79 fallen off the bus", "--format", "json").stdout)
    # both GPU runbooks answer it: the Xid table and the fell-off-the-bus runbook (issue 14)
    assert hits[0]["source"].endswith(("gpu-xid-errors.en.md", "gpu-fallen-off-bus.en.md"))
    assert {"heading", "line_start", "line_end", "citation", "text", "score"} <= set(hits[0])


def test_add_search_list_remove_roundtrip(data_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "payments.md"
    doc.write_text("# Payments failover\n\n## Steps\n\nPromote the standby with `patronictl failover`.\n")
    out = run("add", str(doc), "--name", "oncall/payments.md").stdout
    assert "Added oncall/payments.md: 1 passage(s)." in out
    assert (data_dir / "kb" / "manifest.json").is_file()
    hits = json.loads(run("search", "patronictl failover", "--format", "json", "--doc-lang", "any").stdout)
    assert hits[0]["citation"] == "oncall/payments.md:3-5"
    full = run("search", "patronictl failover", "--full").stdout
    assert "[1] oncall/payments.md:3-5" in full and "    Promote the standby" in full
    assert "oncall/payments.md" in run("list", lang="zh").stdout
    assert "已删除 oncall/payments.md" in run("remove", "oncall/payments.md", lang="zh").stdout
    assert "built-in runbooks" in run("list").stdout


def test_local_mode_says_so_and_the_server_sees_uploads(data_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "quokka.md"
    doc.write_text("# Quokka ledger failover\n\nRun quokkactl promote on the standby ledger.\n")
    offline = run("add", str(doc), "--local")
    assert "[--local]" in offline.stderr and "this machine's data dir only" in offline.stdout
    hits = json.loads(run("search", "quokkactl promote ledger", "--local", "--format", "json").stdout)
    assert hits[0]["source"] == "quokka.md"
    out = run("add", str(doc), lang="zh").stdout  # through the server: searchable there at once
    assert "现在即可检索" in out and "[--local]" not in out

def test_errors_are_reported_in_the_operator_language(data_dir: Path, tmp_path: Path) -> None:
    assert "不存在" in run("add", str(tmp_path / "nope.md"), code=1, lang="zh").output
    bad = tmp_path / "slides.pptx"
    bad.write_bytes(b"PK")
    assert "unsupported document type" in run("add", str(bad), code=1).output
    assert "--name" in run("add", str(tmp_path), "--name", "x", code=1).output
    assert "no document named" in run("remove", "missing.md", code=1).output
    assert "auto | zh | en | any" in run("search", "disk", "--doc-lang", "fr", code=1).output
