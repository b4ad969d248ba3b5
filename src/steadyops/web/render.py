"""Page rendering for the console: one Jinja2 environment, the reader's language, the CSRF token.

The language follows the user's explicit choice (a cookie set by the language switch), then the
browser's ``Accept-Language``, then the server's configured default — the order an operator
expects when a Chinese-speaking on-call engineer opens a link sent by an English-speaking one.

Forms are protected against cross-site posts twice: the session cookie is ``SameSite=Strict``
and every state-changing request carries a token derived from the session secret (a
double-submit token the attacker's page cannot read).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from steadyops.core.i18n import Lang
from steadyops.web.messages import known_keys, tr

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "steadyops_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def pick_lang(request: Request, default: str) -> Lang:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("zh", "en"):
        return chosen  # type: ignore[return-value]
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en"):
            ranked.append((-q, i, primary))
    if ranked:
        return sorted(ranked)[0][2]  # type: ignore[return-value]
    return "zh" if default.startswith("zh") else "en"


def csrf_token(session_secret: str) -> str:
    return hmac.new(session_secret.encode(), b"steadyops-console-csrf", hashlib.sha256).hexdigest()[:40]


def csrf_ok(request: Request, sent: str | None) -> bool:
    secret = request.cookies.get("steadyops_session", "")
    if not secret or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret), sent)


def ago(value: datetime | None, lang: Lang, now: datetime | None = None) -> str:
    if value is None:
        return "—"
    now = now or datetime.now(UTC)
    seconds = max(0.0, (now - value).total_seconds())
    return tr("time.ago", lang, span=duration(seconds, lang))


def duration(seconds: float | None, lang: Lang) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return tr("time.s", lang, n=s)
    if s < 3600:
        return tr("time.m", lang, n=s // 60, s=s % 60)
    if s < 86400:
        return tr("time.h", lang, n=s // 3600, m=(s % 3600) // 60)
    return tr("time.d", lang, n=s // 86400, h=(s % 86400) // 3600)


def stamp(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def render(request: Request, template: str, *, lang: Lang, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the console's common context (language, user, CSRF, nav)."""
    secret = request.cookies.get("steadyops_session", "")

    def t(key: str, **kwargs: object) -> str:
        return tr(key, lang, **kwargs)

    base: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "t": t,
        "ago": lambda v: ago(v, lang),
        "duration": lambda s: duration(s, lang),
        "stamp": stamp,
        "csrf": csrf_token(secret) if secret else "",
        "path": request.url.path,
        "user": getattr(request.state, "principal", None),
        "Markup": Markup,
        "known": known_keys(),
        "flash": None,
        "flash_kind": "ok",
    }
    base.update(context)
    html = _env.get_template(template).render(**base)
    return HTMLResponse(html, status_code=status_code,
                        headers={"Content-Language": "zh-CN" if lang == "zh" else "en",
                                 "Cache-Control": "no-store"})
