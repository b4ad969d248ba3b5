"""``steadyops silences``: mute alerts by matchers during maintenance, amtool-style.

Matchers are checked here before anything is sent, so a typo such as ``severity=~"crit(`` is named
in the operator's language at once instead of coming back as a server validation dump; the server
still validates, being the one that must never store a bad silence.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.cli.output import (
    FormatOption,
    OutputFormat,
    echo_json,
    fmt_time,
    render_fields,
    render_table,
    translated,
)
from steadyops.core.i18n import t
from steadyops.core.models import Matcher

app = typer.Typer(help="Silences: mute alerts for a while. / 静默规则：临时屏蔽告警。", no_args_is_help=True,
                  epilog="中文别名 / Chinese aliases: steadyops 静默 添加 | 列表 | 详情 (查看) ID | 修改 ID | 失效 ID")

IdArg = Annotated[str, typer.Argument(help="silence id / 静默规则编号")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="why / 备注")]
StartsOption = Annotated[str, typer.Option("--starts-at", help="ISO 8601 (default: now) / 生效时间")]
EndsOption = Annotated[str, typer.Option("--ends-at", help="ISO 8601, instead of --duration / 结束时间")]


def _checked(matchers: list[str]) -> list[str]:
    for text in matchers:
        try:
            Matcher.parse(text)
        except ValueError as exc:
            fail(str(exc))
    return matchers


def _show(silence: dict[str, Any], fmt: OutputFormat, message: str) -> None:
    if fmt is OutputFormat.JSON:
        echo_json(silence)
    else:
        typer.echo(message)


def add_silence(
    matchers: Annotated[list[str], typer.Argument(help='e.g. alertname=DiskFull instance=~"db-.*" / 匹配条件')],
    duration: Annotated[str, typer.Option("--duration", "-d", help="e.g. 2h, 1h30m / 持续时间")] = "1h",
    ends_at: EndsOption = "",
    starts_at: StartsOption = "",
    comment: CommentOption = "",
    fmt: FormatOption = OutputFormat.TABLE,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the id (for scripts) / 只输出编号")]
    = False,
) -> None:
    """Create a silence; all matchers must match. / 创建静默规则。"""
    body: dict[str, Any] = {"matchers": _checked(matchers), "comment": comment}
    if starts_at:
        body["starts_at"] = starts_at
    if ends_at:
        body["ends_at"] = ends_at
    else:
        body["duration"] = duration
    created = call("POST", "/api/v1/silences", json=body)
    _show(created, fmt, created["id"] if quiet else t("cli.silence_created", state.lang, id=created["id"]))


def list_silences(
    all_: Annotated[bool, typer.Option("--all", "-a", help="include expired ones / 包括已失效的")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List silences that are active or pending (with --all, expired ones too). / 查看静默规则。"""
    rows = [s for s in call("GET", "/api/v1/silences") if all_ or s["state"] != "expired"]
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    if not rows:
        typer.echo(t("cli.no_silences", state.lang))
        return
    lang = state.lang
    headers = [t(k, lang) for k in ("col.id", "col.state", "col.matchers", "col.starts", "col.ends",
                                     "col.creator", "col.comment")]
    typer.echo(render_table(headers, [
        [s["id"], translated("silence.state", s["state"]), " ".join(s["matchers_text"]), fmt_time(s["starts_at"]),
         fmt_time(s["ends_at"]), s["created_by"], s["comment"]]
        for s in rows
    ], max_width=48))


def show_silence(silence_id: IdArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """One silence. / 查看静默规则详情。"""
    s = call("GET", f"/api/v1/silences/{silence_id}")
    if fmt is OutputFormat.JSON:
        echo_json(s)
        return
    lang = state.lang
    typer.echo(render_fields([
        (t("col.id", lang), s["id"]),
        (t("col.state", lang), translated("silence.state", s["state"])),
        (t("col.matchers", lang), " ".join(s["matchers_text"])),
        (t("col.starts", lang), fmt_time(s["starts_at"])),
        (t("col.ends", lang), fmt_time(s["ends_at"])),
        (t("col.creator", lang), s["created_by"]),
        (t("col.comment", lang), s["comment"] or "-"),
    ]))


def update_silence(
    silence_id: IdArg,
    matcher: Annotated[list[str] | None, typer.Option("--matcher", help="replaces all matchers; repeatable / "
                                                                         "替换匹配条件")] = None,
    duration: Annotated[str, typer.Option("--duration", "-d", help="from now, or from a future start / "
                                                                   "持续时间")] = "",
    ends_at: EndsOption = "",
    starts_at: StartsOption = "",
    comment: Annotated[str | None, typer.Option("--comment", "-m", help="why / 备注")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Change a silence; options left out keep their value. / 修改静默规则。"""
    body: dict[str, Any] = {}
    if matcher:
        body["matchers"] = _checked(matcher)
    for key, value in (("duration", duration), ("ends_at", ends_at), ("starts_at", starts_at)):
        if value:
            body[key] = value
    if comment is not None:
        body["comment"] = comment
    if not body:
        fail(t("cli.nothing_to_update", state.lang))
    updated = call("PUT", f"/api/v1/silences/{silence_id}", json=body)
    _show(updated, fmt, t("cli.silence_updated", state.lang, id=updated["id"]))


def expire_silence(silence_id: IdArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """End a silence now; the record is kept. / 使静默规则立即失效。"""
    expired = call("DELETE", f"/api/v1/silences/{silence_id}")
    _show(expired, fmt, t("cli.silence_expired", state.lang, id=expired["id"]))


app.command("add")(add_silence)
app.command("list")(list_silences)
app.command("show")(show_silence)
app.command("update")(update_silence)
app.command("expire")(expire_silence)
# Chinese aliases, hidden from --help so it stays one list of commands.
app.command("添加", hidden=True)(add_silence)
app.command("列表", hidden=True)(list_silences)
app.command("查看", hidden=True)(show_silence)
app.command("详情", hidden=True)(show_silence)
app.command("修改", hidden=True)(update_silence)
app.command("失效", hidden=True)(expire_silence)
