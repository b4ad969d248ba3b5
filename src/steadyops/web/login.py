"""Signing in and out of the console, and the language switch.

A successful password login issues an ordinary session token (``kind=session``, expiring after
``auth.session_ttl``) and sets it as an HttpOnly, SameSite=Strict cookie: the browser then holds
exactly what an API client holds, so one authentication path serves pages and API alike. Logout
revokes the token on the server, not only in the browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from steadyops.api.auth import audit_login
from steadyops.auth import PUBLIC, identities
from steadyops.auth.deps import SESSION_COOKIE
from steadyops.core.errors import Unauthenticated
from steadyops.web.messages import tr
from steadyops.web.render import LANG_COOKIE, csrf_ok, render
from steadyops.web.session import app_of, lang_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC)])  # sign-in pages and docs are open


def _safe_next(value: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    app = app_of(request)
    return render(request, "login.html.j2", lang=lang_of(request), next=_safe_next(next),
                  oidc=app.settings.auth.oidc is not None, error="")


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: Annotated[str, Form(max_length=200)],
          password: Annotated[str, Form(max_length=1000)], next: Annotated[str, Form()] = "/") -> HTMLResponse:
    app = app_of(request)
    lang = lang_of(request)
    try:
        with app.store.transaction() as s:
            user = identities.check_password(s, username, password)
            issued = identities.issue_token(s, user, app.clock.now(), name="console session",
                                            ttl=app.settings.auth.session_ttl, kind="session")
            audit_login(app, s, user, "password", issued.key)
    except Unauthenticated:
        return render(request, "login.html.j2", lang=lang, next=_safe_next(next), status_code=401,
                      oidc=app.settings.auth.oidc is not None, error=tr("login.failed", lang))
    response = HTMLResponse("", status_code=303, headers={"Location": _safe_next(next)})
    secure = app.settings.auth.tls_certfile is not None or app.settings.auth.behind_tls_proxy
    response.set_cookie(SESSION_COOKIE, issued.secret, max_age=int(app.settings.auth.session_ttl),
                        httponly=True, samesite="strict", secure=secure, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    app = app_of(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret and csrf_ok(request, csrf):
        try:
            with app.store.transaction() as s:
                principal = identities.authenticate(s, secret, app.clock.now())
                key = principal.credential.partition(":")[2]
                if key:
                    identities.revoke(s, key, app.clock.now())
                    app.audit.append_by(s, principal, at=app.clock.now(), kind="logout", subject=f"session {key}")
        except Unauthenticated:
            pass
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
def switch_language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
