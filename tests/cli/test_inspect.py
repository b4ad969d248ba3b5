"""``steadyops inspect``: through a real API server whose App has fake checks (``--local``: in-process);
exit codes, formats, progress, and the diff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from typer.testing import CliRunner, Result

from steadyops.app import App, build_app
from steadyops.cli import _root
from steadyops.cli import do as do_cli
from steadyops.cli import inspect as inspect_cli
from steadyops.cli.common import state
from steadyops.config.settings import Settings
from steadyops.contracts.checks import Check
from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.plugins import Registry
from steadyops.reports import recent_runs
from tests.harness.server import Server

runner = CliRunner()
VERDICT: dict[tuple[str, str], CheckStatus] = {}

INVENTORY = """targets:
  - {name: r1, kind: redis, address: "10.0.0.1:6379"}
  - {name: r2, kind: redis, address: "10.0.0.2:6379"}
  - {name: h1, kind: host, address: 10.0.0.5}
  - {name: zk1, kind: zookeeper, address: "10.0.0.5:2181"}
"""


class _Fake(Check):
    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"{self.name} on {target.name}: {status}",
                           metrics={"value": 1.0}, layer="process")


class RedisMemory(_Fake):
    name: ClassVar[str] = "redis.memory"
    target_kind: ClassVar[str] = "redis"


class RedisPing(_Fake):
    name: ClassVar[str] = "redis.ping"
    target_kind: ClassVar[str] = "redis"


class HostDisk(_Fake):
    name: ClassVar[str] = "host.disk"
    target_kind: ClassVar[str] = "host"


class ZkRuok(_Fake):
    name: ClassVar[str] = "zookeeper.ruok"
    target_kind: ClassVar[str] = "zookeeper"


def cli_app() -> typer.Typer:
    """The root callback plus the two commands, until they are wired into ``steadyops.cli.app``."""
    cli = typer.Typer()
    cli.callback()(_root)
    inspect_cli.register(cli)
    do_cli.register(cli)
    return cli


CLI = cli_app()


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A server on an App with the fake checks, which the CLI reaches with its token (the default path);
    ``--local`` runs build a fresh App on the same SQLite file, as a separate process would."""
    VERDICT.clear()
    state._settings = None
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    registry = Registry()
    for cls in (RedisMemory, RedisPing, HostDisk, ZkRuok):
        registry.add_check(cls)
    env: dict[str, Any] = {"settings": Settings(data_dir=tmp_path / "data", inventory=inventory),
                           "registry": registry, "inventory": inventory}

    def make() -> App:
        return build_app(env["settings"], registry=env["registry"])

    monkeypatch.setattr(inspect_cli, "local_app", make)
    with Server(make()) as srv:
        monkeypatch.setenv("STEADYOPS_SERVER", srv.url)
        monkeypatch.setenv("STEADYOPS_TOKEN", srv.token)
        env["server"] = srv
        yield env


def run(*args: str, code: int, lang: Lang = "en") -> Result:
    result = runner.invoke(CLI, ["--lang", lang, *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_exit_codes_follow_the_worst_status(local: dict[str, Any], lang: Lang) -> None:
    out = run("inspect", code=0, lang=lang).stdout
    assert t("report.title", lang, id=1) in out
    assert t("inspect.ok_count", lang, count=6) in out
    assert t("report.first_run", lang) in out

    VERDICT[("host.disk", "h1")] = CheckStatus.WARNING
    out = run("inspect", code=1, lang=lang).stdout
    assert "host.disk" in out and t("check.status.warning", lang) in out
    assert ("对比对象：巡检 #1（" if lang == "zh" else "Compared with run #1 (") in out

    VERDICT[("redis.memory", "r2")] = CheckStatus.CRITICAL
    run("inspect", code=2, lang=lang)
    VERDICT.clear()
    VERDICT[("zookeeper.ruok", "zk1")] = CheckStatus.UNKNOWN
    run("inspect", code=2, lang=lang)


def test_json_format_and_scope_filters(local: dict[str, Any]) -> None:
    VERDICT[("redis.memory", "r1")] = CheckStatus.CRITICAL
    report = json.loads(run("inspect", "--kind", "redis", "--format", "json", code=2).stdout)
    assert report["status"] == "critical" and report["scope"]["kinds"] == ["redis"]
    assert {f["target"] for f in report["findings"]} == {"r1", "r2"}
    assert report["findings"][0]["check"] == "redis.memory"

    VERDICT.clear()
    report = json.loads(run("inspect", "-k", "redis", "--format", "json", code=0).stdout)
    assert [(c["check"], c["kind"]) for c in report["diff"]["changes"]] == [("redis.memory", "recovered")]

    report = json.loads(run("inspect", "--target", "10.0.0.5", "--check", "host.disk", "-f", "json",
                            code=0).stdout)
    assert [(f["check"], f["target"]) for f in report["findings"]] == [("host.disk", "h1")]
    assert report["diff"] is None  # a different scope is never compared with the redis sweeps


def test_md_and_html_written_to_files(local: dict[str, Any], tmp_path: Path) -> None:
    VERDICT[("redis.ping", "r1")] = CheckStatus.CRITICAL
    md, html = tmp_path / "report.md", tmp_path / "report.html"
    result = run("inspect", "--format", "md", "--out", str(md), code=2, lang="zh")
    assert result.stdout == "" and str(md) in result.stderr
    assert md.read_text(encoding="utf-8").startswith("# 巡检报告 #1\n")
    run("inspect", "--format", "html", "-o", str(html), "--lang", "en", code=2, lang="zh")
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "Inspection report #2" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "New failures" not in page  # same status as last time: "still failing", not new


def test_unknown_target_is_exit_2_with_a_suggestion(local: dict[str, Any]) -> None:
    result = run("inspect", "--target", "r3", code=2)
    assert "'r3' is not in the inventory" in result.stderr and "r1" in result.stderr
    result = run("inspect", "--kind", "mysql", code=2, lang="zh")
    assert "没有可巡检的内容" in result.stderr
    assert "did you mean redis.memory" in run("inspect", "--check", "redis.memroy", code=2).stderr


def test_progress_only_when_asked_or_interactive(local: dict[str, Any]) -> None:
    assert "[1/6]" not in run("inspect", "--local", code=0).stderr  # not a terminal: no progress by default
    forced = run("inspect", "--local", "--progress", code=0).stderr
    assert "Inspecting [1/6]" in forced and "[6/6]" in forced
    assert "[--local]" in forced  # an offline run says so


def test_the_server_runs_the_inspection_as_the_caller(local: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The run lands in the server's store (one client path); a viewer's token may not start one."""
    srv: Server = local["server"]
    run("inspect", "--kind", "redis", code=0)
    assert [r.trigger for r in recent_runs(srv.core.store, limit=5)] == ["cli"]
    monkeypatch.setenv("STEADYOPS_TOKEN", srv.token_for("watcher", "viewer"))
    denied = run("inspect", code=1).stderr
    assert "HTTP 403" in denied and "responder" in denied
    monkeypatch.setenv("STEADYOPS_TOKEN", "so_0_forged")
    assert "HTTP 401" in run("inspect", code=1).stderr
