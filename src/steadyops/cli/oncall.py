"""``steadyops oncall``: who is on call now (or at a time), and a schedule's coming shifts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steadyops.cli.common import call, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, fmt_time, render_table
from steadyops.core.i18n import t

app = typer.Typer(help="On-call: who is on call, shifts. / 值班：当前值班人、排班。", no_args_is_help=True)


def _table(rows: list[dict[str, Any]]) -> str:
    lang = state.lang
    headers = [t(k, lang) for k in ("oncall.col.schedule", "oncall.col.user", "oncall.col.layer",
                                     "oncall.col.until")]
    return render_table(headers, [[r["schedule"], r["user"], r["layer"], fmt_time(r["end"])] for r in rows])


def who(at: Annotated[str, typer.Option("--at", help="ISO 8601 with a zone (default: now) / 时间")] = "",
        fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Who is on call, per schedule. / 当前值班人。"""
    rows = call("GET", "/api/v1/oncall", params={"at": at} if at else None)
    if fmt is OutputFormat.JSON:
        echo_json(rows)
    elif not rows:
        typer.echo(t("oncall.none", state.lang))
    else:
        typer.echo(_table(rows))


def shifts(schedule: Annotated[str, typer.Argument(help="schedule name / 排班名称")],
           days: Annotated[int, typer.Option("--days", min=1, max=90)] = 14,
           fmt: FormatOption = OutputFormat.TABLE) -> None:
    """The coming shifts of a schedule. / 未来排班。"""
    rows = call("GET", f"/api/v1/oncall/schedules/{schedule}/shifts", params={"days": days})
    if fmt is OutputFormat.JSON:
        echo_json(rows)
    else:
        typer.echo(_table(rows) if rows else t("oncall.none", state.lang))


app.command("who")(who)
app.command("shifts")(shifts)
app.command("谁值班", hidden=True)(who)
app.command("排班", hidden=True)(shifts)
