"""``steadyops alerts``: send alerts by hand or from a file, and list the current ones.

Sending goes through the same HTTP intake as Prometheus and Alertmanager, never a side door, so a
test alert exercises exactly the path a real one takes (validation, journal, pipeline). A file is
posted as it is: the server's validation is the one source of truth and names the bad field.

This module also holds the small output helpers the other noun modules share: aligned text tables
that count East Asian wide characters as two columns (so Chinese headers line up in a terminal),
local timestamps, durations and raw JSON.
"""

from __future__ import annotations

import getpass
import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.i18n import MESSAGES, t

app = typer.Typer(help="Send and list alerts. / 发送、查看告警。", no_args_is_help=True)


# -- output helpers shared by the noun modules ------------------------------------------------
class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json / 输出格式")]


def char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns, not code points: ``事件`` is 4 columns wide, not 2."""
    return sum(char_width(ch) for ch in text)


def clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def render_table(headers: Sequence[str], rows: Iterable[Sequence[str]], max_width: int = 60) -> str:
    """Columns separated by two spaces, padded by display width; long cells end in an ellipsis."""
    cells = [[clip(" ".join(str(c).split()), max_width) for c in row] for row in rows]
    widths = [max(display_width(v) for v in column) for column in zip(headers, *cells, strict=False)]
    lines = []
    for row in [list(headers), *cells]:
        padded = [v + " " * (w - display_width(v)) for v, w in zip(row, widths, strict=False)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def render_fields(fields: Sequence[tuple[str, str]]) -> str:
    """``name:  value`` lines with the values aligned, for one object's details."""
    colon = "：" if state.lang == "zh" else ": "  # the full-width colon carries its own spacing
    width = max((display_width(k) for k, _ in fields), default=0)
    return "\n".join(f"{k}{colon}{' ' * (width - display_width(k))} {v}" for k, v in fields)


def fmt_time(value: str | None) -> str:
    """API times are UTC ISO 8601; an operator reads them in the terminal's local time."""
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    total = round(value)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) + (f"{seconds}s" if seconds or not parts else "")


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def translated(prefix: str, value: str) -> str:
    """``incident.status.open`` → 处理中 in Chinese; an unknown value is shown as it is."""
    key = f"{prefix}.{value}"
    return t(key, state.lang) if key in MESSAGES else value


def parse_choice(value: str, choices: Sequence[str], prefix: str) -> str:
    """Accept the API's value or its translation in either language (``--status 处理中``)."""
    wanted = value.strip().lower()
    for choice in choices:
        names = {choice, *(MESSAGES.get(f"{prefix}.{choice}", {}).values())}
        if wanted in {n.lower() for n in names}:
            return choice
    fail(t("cli.bad_status", state.lang, value=value, choices=", ".join(choices)))


def operator_name(by: str) -> str:
    """``--by`` or the login name (as amtool's ``--author``); a container may have neither."""
    if by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        fail(t("cli.need_by", state.lang))


def parse_pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, val = item.partition("=")
        if not sep or not name.strip():
            fail(t("cli.bad_pair", state.lang, what=what, value=item))
        out[name.strip()] = val
    return out


# -- commands -----------------------------------------------------------------------------------
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
