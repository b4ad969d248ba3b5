"""``steadyops alerts``: send alerts by hand or from a file, and list the current ones.

Sending goes through the same HTTP intake as Prometheus and Alertmanager, never a side door, so a
test alert exercises exactly the path a real one takes (validation, journal, pipeline). A file is
posted as it is: the server's validation is the one source of truth and names the bad field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.cli.output import (
    FormatOption,
    OutputFormat,
    echo_json,
    fmt_time,
    parse_choice,
    parse_pairs,
    render_table,
    translated,
)
from steadyops.core.i18n import t

app = typer.Typer(help="Send and list alerts. / 发送、查看告警。", no_args_is_help=True,
                  epilog="中文别名 / Chinese aliases: steadyops 告警 发送 | 列表")


def _read(file: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        fail(t("cli.cannot_read", state.lang, path=file, reason=exc.strerror or exc))


def _endpoint(raw: bytes) -> str:
    """An Alertmanager webhook body (it has ``version``) goes to its own endpoint."""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None  # the server answers with the position of the error
    return "/api/v1/alerts/alertmanager" if isinstance(data, dict) and "version" in data else "/api/v1/alerts"


def send(
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="name=value, repeatable / 标签")] = None,
    annotation: Annotated[list[str] | None, typer.Option("--annotation", "-a",
                                                          help="name=value, repeatable / 注解")] = None,
    status: Annotated[str, typer.Option("--status", help="firing or resolved / 状态")] = "firing",
    starts_at: Annotated[str, typer.Option("--starts-at", help="ISO 8601 (default: now) / 开始时间")] = "",
    ends_at: Annotated[str, typer.Option("--ends-at", help="ISO 8601 / 结束时间")] = "",
    source: Annotated[str, typer.Option("--source", help="where it came from / 来源")] = "cli",
    file: Annotated[Path | None, typer.Option("--file", "-f", help="JSON body; - for stdin / 从文件发送")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Send alerts to the server. / 发送告警。"""
    if file is not None:
        if label or annotation:
            fail(t("cli.file_or_labels", state.lang))
        raw = _read(file)
        result = call("POST", _endpoint(raw), content=raw, headers={"content-type": "application/json"})
    else:
        labels = parse_pairs(label, "--label")
        if not labels:
            fail(t("cli.send_needs_input", state.lang))
        alert: dict[str, Any] = {"labels": labels, "annotations": parse_pairs(annotation, "--annotation"),
                                 "status": parse_choice(status, ("firing", "resolved"), "status")}
        if starts_at:
            alert["starts_at"] = starts_at
        if ends_at:
            alert["ends_at"] = ends_at
        result = call("POST", "/api/v1/alerts", json={"alerts": [alert], "source": source})
    if fmt is OutputFormat.JSON:
        echo_json(result)
        return
    typer.echo(t("cli.sent", state.lang, count=result["received"], new=result["new"], dup=result["duplicates"]))


def list_alerts(
    status: Annotated[str, typer.Option("--status", help="firing or resolved / 状态")] = "",
    incident: Annotated[int | None, typer.Option("--incident", help="incident id / 事件编号")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=5000)] = 100,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List current alerts, most recently changed first. / 查看当前告警。"""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = parse_choice(status, ("firing", "resolved"), "status")
    if incident is not None:
        params["incident_id"] = incident
    rows = call("GET", "/api/v1/alerts", params=params)
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    if not rows:
        typer.echo(t("cli.no_alerts", state.lang))
        return
    typer.echo(alert_table(rows))


def alert_table(rows: Sequence[dict[str, Any]]) -> str:
    lang = state.lang
    headers = [t(k, lang) for k in ("col.fingerprint", "col.status", "col.name", "col.labels", "col.started",
                                     "col.incident", "col.muted")]
    return render_table(headers, [
        [r["fingerprint"], translated("status", r["status"]), r["labels"].get("alertname", ""),
         ",".join(f"{k}={v}" for k, v in sorted(r["labels"].items()) if k != "alertname"),
         fmt_time(r["starts_at"]), str(r.get("incident_id") or "-"), ",".join(r.get("muted_by") or []) or "-"]
        for r in rows
    ])


app.command("send")(send)
app.command("list")(list_alerts)
# Chinese aliases, hidden from --help so it stays one list of commands.
app.command("发送", hidden=True)(send)
app.command("列表", hidden=True)(list_alerts)
