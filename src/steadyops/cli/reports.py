"""``steadyops report daily|weekly|monthly``: the period report from the server, to stdout or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer

from steadyops.cli.common import fail, state

app = typer.Typer(help="Daily / weekly / monthly reports. / 日报、周报、月报。", no_args_is_help=True)

DateOpt = Annotated[str, typer.Option("--date", help="any day in the period, YYYY-MM-DD (default: the last "
                                                     "complete one) / 日期")]
FormatOpt = Annotated[str, typer.Option("--format", help="md, html, json or short / 格式")]
OutOpt = Annotated[Path | None, typer.Option("--output", "-o", help="write to a file / 输出文件")]
TzOpt = Annotated[str, typer.Option("--tz", help="IANA time zone / 时区")]


def _fetch(period: str, day: str, fmt: str, tz: str, output: Path | None) -> None:
    params = {"format": fmt, "lang": state.lang, **({"date": day} if day else {}), **({"tz": tz} if tz else {})}
    try:
        with state.client() as client:
            resp = client.get(f"/api/v1/reports/{period}", params=params)
    except httpx.TransportError as exc:
        fail(f"cannot reach {state.server()}: {type(exc).__name__}")
    if resp.status_code >= 400:
        fail(f"HTTP {resp.status_code}: {resp.text[:500]}")
    if output is None:
        typer.echo(resp.text, nl=False)
    else:
        output.write_text(resp.text, encoding="utf-8")
        typer.echo(str(output))


def _command(period: str):  # type: ignore[no-untyped-def]
    def run(day: DateOpt = "", fmt: FormatOpt = "md", tz: TzOpt = "", output: OutOpt = None) -> None:
        _fetch(period, day, fmt, tz, output)

    run.__doc__ = {"daily": "Daily report. / 日报。", "weekly": "Weekly report. / 周报。",
                   "monthly": "Monthly report. / 月报。"}[period]
    return run


for _period, _zh in (("daily", "日报"), ("weekly", "周报"), ("monthly", "月报")):
    app.command(_period)(_command(_period))
    app.command(_zh, hidden=True)(_command(_period))
