"""The client commands against a real HTTP server (uvicorn on a free loopback port), in zh and en.

The server runs without its background pipeline; the test drives the pipeline between commands so
what each command prints is known exactly, without waiting for a timer.
"""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from steadyops.cli import app as cli
from steadyops.cli.output import display_width, fmt_seconds, render_table
from steadyops.core.i18n import Lang, t
from tests.harness.server import Server

runner = CliRunner()


@pytest.fixture(autouse=True)
def _build_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """typer's runner rebuilds the whole command tree on every invoke (~50 ms); once per test will do.

    If typer renames its helper, nothing breaks: the tests just run slower.
    """
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)


@pytest.fixture
def server(make_app: Any) -> Iterator[Server]:
    with Server(make_app()) as srv:
        yield srv


class Cli:
    """Runs ``steadyops --lang L --server URL --token T …`` and checks the exit code (T: the admin's)."""

    def __init__(self, server: Server, lang: Lang) -> None:
        self.server = server
        self.lang = lang

    def __call__(self, *args: str, code: int = 0, stdin: str | None = None, token: str | None = None) -> Result:
        result = runner.invoke(cli, ["--lang", self.lang, "--server", self.server.url,
                                     "--token", self.server.token if token is None else token, *args], input=stdin)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--format", "json").stdout)


@pytest.fixture(params=["zh", "en"])
def run(request: pytest.FixtureRequest, server: Server) -> Cli:
    return Cli(server, request.param)


def test_alerts_then_incident_lifecycle(run: Cli) -> None:
    lang = run.lang
    send = ("alerts", "send", "--label", "alertname=DiskFull", "--label", "severity=critical",
            "-l", "instance=db-1", "--annotation", "summary=磁盘使用率 95%")
    assert run(*send).stdout.strip() == t("cli.sent", lang, count=1, new=1, dup=0)
    assert run(*send).stdout.strip() == t("cli.sent", lang, count=1, new=0, dup=1)
    run.server.core.pipeline.process_sync()

    listed = run("alerts", "list").stdout
    assert t("col.fingerprint", lang) in listed and "DiskFull" in listed and "instance=db-1" in listed
    assert t("status.firing", lang) in listed
    (alert,) = run.json("alerts", "list", "--status", "firing")
    assert alert["labels"]["severity"] == "critical"

    table = run("incidents", "list").stdout
    header, row = table.splitlines()
    assert header.split() == [t(k, lang) for k in ("col.id", "col.status", "col.severity", "col.title",
                                                    "col.alerts", "col.opened")]
    assert row.startswith("1 ") and "DiskFull @ db-1" in row and "1/1" in row
    assert t("incident.status.open", lang) in row and t("severity.critical", lang) in row
    (inc,) = run.json("incidents", "list")
    assert inc["id"] == 1 and inc["status"] == "open"

    shown = run("incidents", "show", "1").stdout
    assert shown.startswith("#1 DiskFull @ db-1")
    for key in ("incident.mttd", "incident.timeline", "incident.event.opened"):
        assert t(key, lang) in shown
    assert t("incident.alerts", lang, count=1) in shown
    assert run.json("incidents", "show", "1")["alerts"][0]["annotations"]["summary"] == "磁盘使用率 95%"

    alice = run.server.token_for("alice", "responder")
    acked = run("incidents", "ack", "1", "--comment", "我来处理", token=alice).stdout
    assert acked.strip() == t("cli.acked", lang, id=1, who="alice")
    status = t("incident.status.acknowledged", lang)  # Chinese status names are accepted as input
    assert [i["id"] for i in run.json("incidents", "list", "--status", status)] == [1]
    assert t("incident.acknowledged_by", lang) in run("incidents", "show", "1").stdout

    done = run("incidents", "resolve", "1", "-m", "清理完成", token=alice).stdout
    assert done.strip() == t("cli.resolved", lang, id=1, who="alice")
    assert run.json("incidents", "show", "1")["resolved_by"] == "alice"
    refused = run("incidents", "ack", "1", code=1, token=run.server.token_for("bob", "responder"))
    assert refused.stderr.strip() == t("cli.error", lang, msg=t("apierr.already_resolved", lang, id=1) + " (HTTP 409)")
    assert run("incidents", "list", "--status", "open").stdout.strip() == t("cli.no_incidents", lang)


def test_silences_lifecycle(run: Cli) -> None:
    lang = run.lang
    assert run("silences", "list").stdout.strip() == t("cli.no_silences", lang)
    out = run("silences", "add", "alertname=DiskFull", 'instance=~"db-.*"', "--duration", "2h",
              "--comment", "扩容维护", token=run.server.token_for("bob", "responder")).stdout
    (silence,) = run.json("silences", "list")
    assert out.strip() == t("cli.silence_created", lang, id=silence["id"])
    assert silence["matchers_text"] == ['alertname="DiskFull"', 'instance=~"db-.*"']

    table = run("silences", "list").stdout
    assert t("col.matchers", lang) in table and "扩容维护" in table and "bob" in table
    assert t("silence.state.active", lang) in table
    shown = run("silences", "show", silence["id"]).stdout
    assert silence["id"] in shown and 'instance=~"db-.*"' in shown

    # a silenced alert is stored but opens no incident
    run("alerts", "send", "-l", "alertname=DiskFull", "-l", "instance=db-7")
    run.server.core.pipeline.process_sync()
    (alert,) = run.json("alerts", "list")
    assert alert["muted_by"] == [f"silence:{silence['id']}"]
    assert run("incidents", "list").stdout.strip() == t("cli.no_incidents", lang)

    updated = run("silences", "update", silence["id"], "--duration", "4h", "--comment", "延长").stdout
    assert updated.strip() == t("cli.silence_updated", lang, id=silence["id"])
    assert run.json("silences", "show", silence["id"])["comment"] == "延长"
    run("silences", "update", silence["id"], code=1)  # nothing to change

    expired = run("silences", "expire", silence["id"]).stdout
    assert expired.strip() == t("cli.silence_expired", lang, id=silence["id"])
    assert run("silences", "list").stdout.strip() == t("cli.no_silences", lang)
    everything = run("silences", "list", "--all").stdout
    assert silence["id"] in everything and t("silence.state.expired", lang) in everything


def test_send_from_file(run: Cli, tmp_path: Path) -> None:
    webhook = {
        "version": "4", "status": "firing", "receiver": "steadyops", "groupKey": "{}", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "Down", "instance": f"web-{i}"},
                    "annotations": {}, "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": "x"} for i in range(3)],
    }
    am_file = tmp_path / "alertmanager.json"
    am_file.write_text(json.dumps(webhook), encoding="utf-8")
    assert run("alerts", "send", "--file", str(am_file)).stdout.strip() == t("cli.sent", run.lang, count=3,
                                                                             new=3, dup=0)
    generic = json.dumps([{"labels": {"alertname": "Ping"}}])
    result = run("alerts", "send", "-f", "-", "--format", "json", stdin=generic)
    assert json.loads(result.stdout) == {"received": 1, "new": 1, "duplicates": 0}
    run.server.core.pipeline.process_sync()
    sources = {a["labels"]["alertname"]: a for a in run.json("alerts", "list")}
    assert set(sources) == {"Down", "Ping"}


def test_errors_are_localised(run: Cli, tmp_path: Path) -> None:
    lang = run.lang
    prefix = t("cli.error", lang, msg="")
    cases: list[tuple[tuple[str, ...], str]] = [
        (("alerts", "send"), t("cli.send_needs_input", lang)),
        (("alerts", "send", "-l", "novalue"), t("cli.bad_pair", lang, what="--label", value="novalue")),
        (("alerts", "send", "-l", "a=b", "-f", "x.json"), t("cli.file_or_labels", lang)),
        (("alerts", "send", "-l", "a=b", "--status", "burning"), "burning"),
        (("alerts", "send", "-f", str(tmp_path / "missing.json")), "missing.json"),
        (("alerts", "send", "-l", "alertname=X", "--starts-at", "1990-01-01T00:00:00Z"), "HTTP 400"),
        (("silences", "add", "alertname X"), "cannot parse matcher"),
        (("silences", "expire", "nope"),
         t("apierr.not_found", lang, what=t("apierr.what.silence", lang), id="nope") + " (HTTP 404)"),
        (("incidents", "show", "99999"),
         t("apierr.not_found", lang, what=t("apierr.what.incident", lang), id=99999) + " (HTTP 404)"),
    ]
    for args, needle in cases:
        result = run(*args, code=1)
        assert result.stderr.startswith(prefix), result.stderr
        assert needle in result.stderr, result.stderr
        if lang == "zh" and "HTTP 404" in needle:  # the server's English detail is not shown in zh
            assert "does not exist" not in result.stderr, result.stderr
    bad_file = tmp_path / "bad.json"
    bad_file.write_text('{"alerts": [', encoding="utf-8")
    assert "line 1 column" in run("alerts", "send", "-f", str(bad_file), code=1).stderr


def test_unreachable_server(make_app: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(cli, ["--lang", "zh", "--server", f"http://127.0.0.1:{port}", "incidents", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("错误：无法连接")


def test_chinese_aliases(server: Server) -> None:
    run = Cli(server, "zh")
    run("alerts", "发送", "-l", "alertname=磁盘满", "-l", "instance=db-1")
    server.core.pipeline.process_sync()
    assert "磁盘满 @ db-1" in run("incidents", "列表").stdout
    zhang = server.token_for("张三", "responder")
    assert run("incidents", "认领", "1", token=zhang).stdout.strip() == "事件 #1 已由 张三 认领。"
    assert "张三" in run("incidents", "查看", "1").stdout
    run("silences", "添加", "alertname=磁盘满", token=server.token_for("李四", "responder"))
    assert "李四" in run("silences", "列表").stdout


def test_tables_align_wide_characters() -> None:
    assert display_width("事件") == 4 and display_width("ID") == 2 and display_width("é") == 1
    table = render_table(["编号", "标题"], [["1", "磁盘满 @ db-1"], ["12345", "x"]]).splitlines()
    # the second column starts at the same terminal column on every line
    starts = {display_width(line[: line.index(col)]) for line, col in zip(table, ["标题", "磁盘满", "x"],
                                                                          strict=True)}
    assert starts == {7}
    assert render_table(["a"], [["x" * 100]], max_width=10).splitlines()[1] == "x" * 9 + "…"
    assert [fmt_seconds(v) for v in (None, 0, 59.6, 61, 3600, 90061)] == ["-", "0s", "1m", "1m1s", "1h", "1d1h1m1s"]


def test_the_actor_is_the_token_never_a_typed_name(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Cli(server, "en")
    run("alerts", "send", "-l", "alertname=X")
    server.core.pipeline.process_sync()
    monkeypatch.setattr("getpass.getuser", lambda: "mallory")  # the login name counts for nothing
    oncall = server.token_for("oncall", "responder")
    assert run("incidents", "ack", "1", token=oncall).stdout.strip() == t("cli.acked", "en", id=1, who="oncall")
    assert run("incidents", "ack", "1", "--by", "mallory", code=2, token=oncall)  # no such option any more
    unauth = run("incidents", "resolve", "1", code=1, token="so_nope_nope")
    assert "HTTP 401" in unauth.stderr and t("cli.need_token", "en") in unauth.stderr
    viewer = server.token_for("watcher", "viewer")
    assert "HTTP 403" in run("incidents", "resolve", "1", code=1, token=viewer).stderr
    assert run.json("incidents", "show", "1")["status"] == "acknowledged"
