"""``steadyops do "…"``: each phrase reaches the right path; disk cleanup goes through a real API server."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
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
from steadyops.contracts.sections import ReportSection
from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckResult, CheckStatus, Finding
from steadyops.plugins import Registry
from tests.harness.server import Server

runner = CliRunner()
VERDICT: dict[tuple[str, str], CheckStatus] = {}


class _Fake(Check):
    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"{self.name}: {status}", layer="process")


class RedisPing(_Fake):
    name: ClassVar[str] = "redis.ping"
    target_kind: ClassVar[str] = "redis"


class HostLoad(_Fake):
    name: ClassVar[str] = "host.load"
    target_kind: ClassVar[str] = "host"


class ZkRuok(_Fake):
    name: ClassVar[str] = "zookeeper.ruok"
    target_kind: ClassVar[str] = "zookeeper"


class ZkMntr(_Fake):
    name: ClassVar[str] = "zookeeper.mntr"
    target_kind: ClassVar[str] = "zookeeper"


CLI = typer.Typer()
CLI.callback()(_root)
inspect_cli.register(CLI)
do_cli.register(CLI)


SERVERS: list[Server] = []


def fake_localisation(findings: Sequence[Finding], inventory: Inventory | None) -> ReportSection | None:
    """Stands in for ZooKeeper's section: names the failing ZooKeeper targets."""
    if not any(f.target_kind == "zookeeper" for f in findings):
        return None
    failed = sorted({f.target for f in findings if f.status.failing})
    return ReportSection(key="zookeeper", title={"zh": "ZK 定位", "en": "ZK localisation"},
                         body={lang: f"failed layer on {failed}" for lang in ("zh", "en")})


def use_local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, inventory: str) -> None:
    """A server whose App has the fake checks and ``inventory``; the CLI reaches it with its token."""
    VERDICT.clear()
    path = tmp_path / "local-inventory.yaml"
    path.write_text(inventory)
    registry = Registry()
    for cls in (RedisPing, HostLoad, ZkRuok, ZkMntr):
        registry.add_check(cls)
    registry.add_report_section("zookeeper", fake_localisation)
    settings = Settings(data_dir=tmp_path / f"local-data{len(SERVERS)}", inventory=path)

    def make() -> App:
        return build_app(settings, registry=registry)

    monkeypatch.setattr(inspect_cli, "local_app", make)
    srv = Server(make()).__enter__()
    SERVERS.append(srv)
    monkeypatch.setenv("STEADYOPS_SERVER", srv.url)
    monkeypatch.setenv("STEADYOPS_TOKEN", srv.token)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    state._settings = None
    yield
    while SERVERS:
        srv = SERVERS.pop()
        srv.__exit__(None, None, None)
        srv.core.close()


FLEET = """targets:
  - {name: r1, kind: redis, address: "10.0.0.1:6379"}
  - {name: h5, kind: host, address: 10.0.0.5}
  - {name: zk5, kind: zookeeper, address: "10.0.0.5:2181"}
  - {name: zk6, kind: zookeeper, address: "10.0.0.6:2181"}
"""


def do(*args: str, code: int, lang: Lang = "en", server: Server | None = None) -> Result:
    pre = ["--lang", lang] + (server.args if server else [])
    result = runner.invoke(CLI, [*pre, "do", *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def findings(result: Result) -> list[tuple[str, str]]:
    return [(f["check"], f["target"]) for f in json.loads(result.stdout)["findings"]]


def test_inspect_phrases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_local(monkeypatch, tmp_path, FLEET)
    assert findings(do("巡检 redis", "--format", "json", code=0)) == [("redis.ping", "r1")]
    offline = do("巡检 redis", "--local", "--format", "json", code=0)
    assert findings(offline) == [("redis.ping", "r1")] and "[--local]" in offline.stderr
    got = do("inspect", "zookeeper", "10.0.0.5", "--format", "json", code=0)  # words may come unquoted
    assert sorted(findings(got)) == [("zookeeper.mntr", "zk5"), ("zookeeper.ruok", "zk5")]
    VERDICT[("host.load", "h5")] = CheckStatus.WARNING
    assert len(findings(do("巡检", "-f", "json", code=1))) == 6


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_zk_check_runs_zookeeper_checks_with_the_localisation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                              lang: Lang) -> None:
    use_local(monkeypatch, tmp_path, FLEET)
    VERDICT[("zookeeper.ruok", "zk6")] = CheckStatus.CRITICAL
    out = do("zk检测", code=2, lang=lang).stdout
    assert "zookeeper.ruok" in out and "failed layer on ['zk6']" in out
    assert ("ZK 定位" if lang == "zh" else "ZK localisation") in out
    assert "redis" not in out and "h5" not in out
    report = json.loads(do("ZK检测 10.0.0.5:2181", "--format", "json", code=0, lang=lang).stdout)
    assert {f["target"] for f in report["findings"]} == {"zk5"}
    assert report["sections"][0]["body"]["en"] == "failed layer on []"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_zk_check_without_zookeeper_targets_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   lang: Lang) -> None:
    use_local(monkeypatch, tmp_path, "targets:\n  - {name: r1, kind: redis, address: '10.0.0.1:6379'}\n")
    result = do("zk检测", code=2, lang=lang)
    assert t("do.no_kind", lang, kind="zookeeper", where="") in result.stderr
    use_local(monkeypatch, tmp_path, FLEET)
    result = do("zk检测 zk-nope", code=2, lang=lang)
    assert t("do.no_kind", lang, kind="zookeeper", where=t("do.at", lang, target="zk-nope")) in result.stderr


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_address_not_in_the_inventory_is_inspected_ad_hoc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             lang: Lang) -> None:
    """``zk检测 10.9.9.9`` / ``inspect zookeeper 10.9.9.9``: read-only checks once, nothing recorded."""
    use_local(monkeypatch, tmp_path, FLEET)
    VERDICT[("zookeeper.ruok", "10.9.9.9:2181")] = CheckStatus.CRITICAL
    for phrase in ("zk检测 10.9.9.9:2181", "inspect zookeeper 10.9.9.9:2181"):
        result = do(phrase, "--format", "json", code=2, lang=lang)
        assert t("inspect.adhoc", lang, address="10.9.9.9:2181", kind="zookeeper") in result.stderr
        report = json.loads(result.stdout)
        assert {f["target"] for f in report["findings"]} == {"10.9.9.9:2181"}
        assert report["run_id"] is None  # not recorded: no schedule would ever resolve its alerts
    # 10.0.0.5 is in the inventory as a host: asking for redis there runs the redis checks ad hoc
    result = do("巡检 redis 10.0.0.5:6379", "--format", "json", code=0, lang=lang)
    assert {f["check"] for f in json.loads(result.stdout)["findings"]} == {"redis.ping"}
    # a mistyped *name* is not an address: still "not in the inventory", with a suggestion
    assert do("巡检 redis r3", code=2, lang=lang).exit_code == 2


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unknown_command_exits_2_with_suggestions(lang: Lang) -> None:
    result = do("inspekt redis", code=2, lang=lang)
    assert t("do.unknown", lang, text="inspekt redis") in result.stderr
    assert t("do.suggest", lang, items="").strip() in result.stderr and "inspect" in result.stderr
    assert "磁盘清理 all" in do("重启一切", code=2, lang=lang).stderr  # no close match: examples instead
    assert "expected one target" in do("巡检 redis a b", code=2, lang=lang).stderr


def test_incidents_phrase_asks_the_server(make_app: Any) -> None:
    with Server(make_app()) as srv:
        for lang in ("zh", "en"):
            assert do("事件列表", code=0, lang=lang, server=srv).stdout.strip() == t("cli.no_incidents", lang)
        assert json.loads(do("list incidents", "--format", "json", code=0, server=srv).stdout) == []


CLEANUP_FLEET = """targets:
  - {{name: web-1, kind: host, address: 127.0.0.1, labels: {{env: prod}}}}
  - {{name: dev-1, kind: host, address: 127.0.0.2, labels: {{env: dev, local: 'true', log_paths: '{logs}'}}}}
  - {{name: zk-1, kind: zookeeper, address: "127.0.0.3:2181"}}
"""


@pytest.fixture
def cleanup_server(remediation_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The server is ``remediation_app``; the CLI's inventory names the same hosts plus a ZooKeeper."""
    inventory = tmp_path / "cli-inventory.yaml"
    inventory.write_text(CLEANUP_FLEET.format(logs=remediation_app.test_logs))
    monkeypatch.setenv("STEADYOPS_INVENTORY", str(inventory))
    monkeypatch.setenv("STEADYOPS_DATA_DIR", str(tmp_path / "cli-data"))
    with Server(remediation_app) as srv:
        yield srv


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_disk_cleanup_all(cleanup_server: Server, lang: Lang) -> None:
    logs = cleanup_server.core.test_logs  # type: ignore[attr-defined]
    out = do("磁盘清理 all", "--yes", code=1, lang=lang, server=cleanup_server).stdout
    plan = out.index(t("act.plan_header", lang, id=1, action="host.clean_logs", target="dev-1",
                       risk=t("act.risk.medium", lang)))
    done = out.index("完成：" if lang == "zh" else "Done: ")
    summary = out.index(t("do.cleanup_summary", lang))
    assert plan < done < summary  # the plan first, then the outcome, then the summary
    assert "app-0.log" in out[plan:done]
    assert t("do.cleanup_unavailable", lang, action="zookeeper.purge") in out  # said clearly, not a stack trace
    assert t("do.cleanup_missing", lang, fields="paths") in out  # web-1 has no log_paths label
    assert "20.0 KiB (20480)" in out[summary:]
    assert t("do.cleanup_total", lang, human="20.0 KiB", bytes=20480, hosts=1) in out
    assert sorted(p.name for p in logs.iterdir()) == ["current.log"]


def test_disk_cleanup_needs_approval_or_confirmation(cleanup_server: Server) -> None:
    logs = cleanup_server.core.test_logs  # type: ignore[attr-defined]
    out = do("磁盘清理 web-1", "--param", f"paths={logs}", code=0, lang="zh",
             server=cleanup_server).stdout
    assert "处置计划 #1：host.clean_logs → web-1" in out and "已审批 0/2" in out
    assert t("do.cleanup_pending", "zh", id=1) in out and "待审批" in out.split("磁盘清理汇总")[1]
    out = do("磁盘清理 127.0.0.2", code=0, server=cleanup_server).stdout
    assert t("act.confirm_hint", "en", id=2) in out and t("do.result.not_applied", "en") in out
    assert len(list(logs.iterdir())) == 6  # nothing deleted without --yes
    rows = json.loads(do("disk cleanup", "dev-1", "--yes", "-f", "json", code=0, server=cleanup_server).stdout)
    assert rows == [{"target": "dev-1", "action": "host.clean_logs", "result": "applied", "bytes_freed": 20480,
                     "run_id": 3, "note": ""}]


def test_disk_cleanup_refusals(cleanup_server: Server) -> None:
    result = do("磁盘清理 zk-1", code=2, server=cleanup_server)
    assert "zookeeper.purge is not available on the server" in result.stdout
    assert t("do.cleanup_no_match", "en", target="nope") in do("磁盘清理 nope", code=2, server=cleanup_server).stderr
    assert t("do.cleanup_need_target", "zh") in do("磁盘清理", code=2, lang="zh", server=cleanup_server).stderr
