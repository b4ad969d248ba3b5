"""Silences in the console, the way Alertmanager's UI does them: start from an alert's labels,
see which alerts the matchers catch *before* saving, then create; expire with one click.

The creator is the signed-in identity, never a typed name."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape
from pydantic import ValidationError

from steadyops.api.silences import audit_silence
from steadyops.auth import Principal
from steadyops.config.durations import parse_duration
from steadyops.core.errors import ValidationFailed
from steadyops.core.i18n import Lang
from steadyops.core.models import Matcher, Silence, matches_all
from steadyops.store import alerts as alerts_repo
from steadyops.store import silences as silences_repo
from steadyops.web.messages import tr
from steadyops.web.render import render
from steadyops.web.session import app_of, checked_form, lang_of, responder, viewer

router = APIRouter(include_in_schema=False)

PREVIEW_LIMIT = 50


class MatcherError(ValidationFailed):
    """A matcher line that does not parse (``line`` empty: no matcher at all)."""

    def __init__(self, line: str, why: str) -> None:
        super().__init__(f"matcher {line!r}: {why}" if line else why)
        self.line = line


def parse_matchers(text: str) -> list[Matcher]:
    """One matcher per line (or comma-separated), amtool syntax: ``alertname="X"``, ``sev=~"crit.*"``."""
    out = []
    for line in text.replace(",\n", "\n").splitlines():
        line = line.strip().rstrip(",")
        if line:
            try:
                out.append(Matcher.parse(line))
            except (ValueError, ValidationError) as exc:
                raise MatcherError(line, str(exc)) from exc
    if not out:
        raise MatcherError("", "a silence needs at least one matcher")
    return out


def explain(exc: MatcherError, lang: Lang) -> Markup:
    """The error in the reader's language; the offending line is shown as typed."""
    if not exc.line:
        return Markup(escape(tr("silence.no_matchers", lang)))
    return Markup(f"{escape(tr('silence.bad_matcher', lang))} <code>{escape(exc.line)}</code>")


def preview(request: Request, matchers: list[Matcher]) -> list[Any]:
    app = app_of(request)
    with app.store.transaction() as s:
        rows = [a for a in alerts_repo.firing_alerts(s) if matches_all(matchers, a.labels)]
        s.expunge_all()
    return rows


@router.get("/silences", response_class=HTMLResponse)
def silences_page(request: Request, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    now = app.clock.now()
    with app.store.transaction() as s:
        items = silences_repo.list_all(s)
    return render(request, "silences.html.j2", lang=lang_of(request), items=items, now=now)


@router.get("/silences/new", response_class=HTMLResponse)
def new_silence(request: Request, me: Annotated[Principal, Depends(responder)],
                m: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
    text = "\n".join(m or [])
    matched: list[Any] = []
    error: Markup | str = ""
    if text:
        try:
            matched = preview(request, parse_matchers(text))
        except MatcherError as exc:
            error = explain(exc, lang_of(request))
    return render(request, "silence_new.html.j2", lang=lang_of(request), matchers=text, matched=matched,
                  error=error, limit=PREVIEW_LIMIT)


@router.post("/silences/preview", response_class=HTMLResponse, dependencies=[Depends(checked_form)])
def preview_fragment(request: Request, me: Annotated[Principal, Depends(responder)],
                     matchers: Annotated[str, Form(max_length=10_000)] = "") -> HTMLResponse:
    lang = lang_of(request)
    error: Markup | str = ""
    matched: list[Any] = []
    if matchers.strip():  # an empty box is not an error yet: the user has not typed anything
        try:
            matched = preview(request, parse_matchers(matchers))
        except MatcherError as exc:
            error = explain(exc, lang)
    return render(request, "silence_preview.html.j2", lang=lang, matched=matched, error=error, limit=PREVIEW_LIMIT)


@router.post("/silences", dependencies=[Depends(checked_form)], response_model=None)
def create(request: Request, me: Annotated[Principal, Depends(responder)],
           matchers: Annotated[str, Form(max_length=10_000)], duration: Annotated[str, Form(max_length=32)] = "2h",
           comment: Annotated[str, Form(max_length=10_000)] = "") -> RedirectResponse | HTMLResponse:
    app = app_of(request)
    lang = lang_of(request)
    now = app.clock.now()
    try:
        parsed = parse_matchers(matchers)
        seconds = parse_duration(duration)
        if seconds <= 0:
            raise ValueError(tr("silence.bad_duration", lang))
    except MatcherError as exc:
        return render(request, "silence_new.html.j2", lang=lang, matchers=matchers, matched=[],
                      error=explain(exc, lang), limit=PREVIEW_LIMIT, status_code=400)
    except ValueError:
        return render(request, "silence_new.html.j2", lang=lang, matchers=matchers, matched=[],
                      error=tr("silence.bad_duration", lang), limit=PREVIEW_LIMIT, status_code=400)
    silence = Silence(matchers=parsed, starts_at=now, ends_at=now + timedelta(seconds=seconds),
                      created_by=me.name, comment=comment)
    with app.store.transaction() as s:
        audit_silence(app, s, me, "silence_created", silences_repo.create(s, silence, now))
    app.pipeline.wake()
    return RedirectResponse("/silences", status_code=303)


@router.post("/silences/{silence_id}/expire", dependencies=[Depends(checked_form)])
def expire(request: Request, silence_id: str, me: Annotated[Principal, Depends(responder)]) -> RedirectResponse:
    app = app_of(request)
    with app.store.transaction() as s:
        audit_silence(app, s, me, "silence_expired", silences_repo.expire(s, silence_id, app.clock.now()))
    app.pipeline.wake()
    return RedirectResponse("/silences", status_code=303)
