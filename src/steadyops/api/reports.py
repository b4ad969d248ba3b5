"""Period reports (日报 / 周报 / 月报) over HTTP: Markdown, self-contained HTML, JSON, or the short chat form."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Viewer
from steadyops.config.operations import check_zone
from steadyops.core.errors import ValidationFailed
from steadyops.core.i18n import normalise
from steadyops.core.markup import plain
from steadyops.reports.periodic import PERIODS
from steadyops.reports.periodic_render import render_html, render_markdown, render_short
from steadyops.reports.rhythm import make_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

_MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8", "json": "application/json",
          "short": "text/plain; charset=utf-8"}


@router.get("/{period}", summary="A daily, weekly or monthly report",
            responses={200: {"content": {m: {} for m in _MEDIA.values()}}})
async def period_report(
    me: Viewer,
    period: Literal["daily", "weekly", "monthly"],
    app: Annotated[App, Depends(get_app)],
    day: Annotated[date | None, Query(alias="date", description="any day in the period (default: the last "
                                                                 "complete period)")] = None,
    fmt: Annotated[Literal["md", "html", "json", "short"], Query(alias="format")] = "md",
    lang: Annotated[str, Query(pattern="^(zh|en)?$")] = "",
    tz: Annotated[str, Query(max_length=64, description="IANA zone (default: reports.timezone)")] = "",
) -> Response:
    if tz:
        try:
            check_zone(tz)
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from exc
    assert period in PERIODS
    report = await run_in_threadpool(make_report, app.settings, app.store, app.clock, period, day=day,
                                     timezone=tz or None)
    language = normalise(lang or app.settings.lang)
    if fmt == "json":
        body = report.model_dump_json()
    elif fmt == "html":
        body = render_html(report, language)
    elif fmt == "short":
        title, text = render_short(report, language)
        body = f"{plain(title)}\n{plain(text)}\n"
    else:
        body = render_markdown(report, language)
    return Response(body, media_type=_MEDIA[fmt])
