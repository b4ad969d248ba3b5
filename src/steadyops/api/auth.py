"""Identities over HTTP: who am I, password login (console), tokens, users and service accounts.

Anyone authenticated manages their own tokens (never above their own role); only an admin manages
other principals and their tokens. A token's secret is in the response that creates it and
nowhere else, ever.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Admin, Principal, Public, Role, Viewer, oidc
from steadyops.auth import identities as ids
from steadyops.auth.deps import SESSION_COOKIE
from steadyops.auth.roles import at_most
from steadyops.config.settings import OIDCConfig
from steadyops.core.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from steadyops.store.tables import PrincipalRow, TokenRow

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class WhoAmI(BaseModel):
    name: str
    kind: str
    role: Role
    credential: str


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class TokenIn(BaseModel):
    name: str = Field(default="", max_length=200, description="what the token is for")
    role: Role | None = Field(default=None, description="scope; at most the owner's role (default: the owner's)")
    ttl_seconds: float | None = Field(default=None, gt=0, le=100 * 365 * 86400.0,
                                     description="expiry (at most 100 years); none = until revoked")
    owner: str | None = Field(default=None, description="another principal (admin only); default: the caller")


class TokenOut(BaseModel):
    key: str
    owner: str
    name: str
    role: Role
    kind: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedOut(BaseModel):
    key: str
    owner: str
    role: Role
    expires_at: datetime | None
    token: str = Field(description="the secret: shown this once, stored only as a hash")


class PrincipalIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="user", pattern="^(user|service)$")
    role: Role
    password: str | None = Field(default=None, max_length=1000)


class PrincipalPatch(BaseModel):
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, max_length=1000)


class PrincipalOut(BaseModel):
    name: str
    kind: str
    role: Role
    disabled: bool
    has_password: bool
    oidc: bool
    created_at: datetime


def _token_out(row: TokenRow, owner: str) -> TokenOut:
    return TokenOut(key=row.key, owner=owner, name=row.name, role=Role(row.role), kind=row.kind,
                    created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
                    last_used_at=row.last_used_at)


def _principal_out(row: PrincipalRow) -> PrincipalOut:
    return PrincipalOut(name=row.name, kind=row.kind, role=Role(row.role), disabled=row.disabled,
                        has_password=row.password_hash is not None, oidc=row.oidc_subject is not None,
                        created_at=row.created_at)


def _audit(app: App, session: Session, me: Principal, kind: str, subject: str, payload: dict[str, Any]) -> None:
    """Identity changes go into the tamper-evident audit log, in the same transaction as the change."""
    app.audit.append_by(session, me, at=app.clock.now(), kind=kind, subject=subject, payload=payload)


def audit_login(app: App, session: Session, user: PrincipalRow, how: str, session_key: str) -> None:
    """A login mints a session credential; the audit names who, how (``password``, ``oidc``) and the
    session's key, so every later entry made with ``session:<key>`` traces back to this login."""
    me = Principal(id=user.id, name=user.name, kind=user.kind, role=Role(user.role), credential=how)
    _audit(app, session, me, "login", f"session {session_key}", {})


def _issued(t: ids.IssuedToken) -> IssuedOut:
    return IssuedOut(key=t.key, owner=t.principal, role=t.role, expires_at=t.expires_at, token=t.secret)


@router.get("/whoami", response_model=WhoAmI, summary="The caller's identity and role")
def whoami(me: Viewer) -> WhoAmI:
    return WhoAmI(name=me.name, kind=me.kind, role=me.role, credential=me.credential)


@router.post("/login", response_model=IssuedOut, summary="Password login: a session token (also set as a cookie)",
             responses={401: {"description": "Wrong user name or password"}})
def login(body: LoginIn, response: Response, _: Public, app: Annotated[App, Depends(get_app)]) -> IssuedOut:
    """For the console. The cookie is HttpOnly and SameSite=Strict, so another site cannot ride it."""
    now = app.clock.now()
    with app.store.transaction() as s:
        user = ids.check_password(s, body.username, body.password)
        issued = ids.issue_token(s, user, now, name="session", ttl=app.settings.auth.session_ttl, kind="session")
        audit_login(app, s, user, "password", issued.key)
    secure = app.settings.auth.tls_certfile is not None or app.settings.auth.behind_tls_proxy
    response.set_cookie(SESSION_COOKIE, issued.secret, max_age=int(app.settings.auth.session_ttl), httponly=True,
                        samesite="strict", secure=secure, path="/")
    return _issued(issued)


@router.post("/logout", summary="Revoke the session (or token) this request came with")
def logout(response: Response, me: Viewer, app: Annotated[App, Depends(get_app)]) -> dict[str, str]:
    kind, _, key = me.credential.partition(":")
    if kind in ("session", "token"):
        with app.store.transaction() as s:
            ids.revoke(s, key, app.clock.now(), by=me)
            _audit(app, s, me, "logout", f"{kind} {key}", {})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "logged out"}


@router.get("/tokens", response_model=list[TokenOut], summary="Tokens: your own, or everyone's for an admin")
def list_tokens(me: Viewer, app: Annotated[App, Depends(get_app)]) -> list[TokenOut]:
    with app.store.transaction() as s:
        rows = ids.list_tokens(s, None if me.role is Role.ADMIN else me.id)
        return [_token_out(t, owner) for t, owner in rows]


@router.post("/tokens", response_model=IssuedOut, status_code=201, summary="Create a token (secret shown once)")
def create_token(body: TokenIn, me: Viewer, app: Annotated[App, Depends(get_app)]) -> IssuedOut:
    with app.store.transaction() as s:
        if body.owner is not None and body.owner != me.name:
            if me.role is not Role.ADMIN:
                raise Forbidden("only an admin may create tokens for another principal")
            owner = ids.get_principal(s, body.owner)
            scope = body.role
        else:
            owner = ids.get_principal(s, me.name)
            scope = body.role or me.role  # never wider than the credential that asks
            if not at_most(scope, me.role):
                raise Forbidden(f"your credential is scoped to {me.role.value}; a {scope.value} token exceeds it")
        issued = ids.issue_token(s, owner, app.clock.now(), role=scope, name=body.name, ttl=body.ttl_seconds)
        _audit(app, s, me, "token_created", f"token {issued.key}",
               {"owner": owner.name, "role": issued.role.value, "name": body.name,
                "expires_at": issued.expires_at.isoformat() if issued.expires_at else None})
    return _issued(issued)


@router.delete("/tokens/{key}", response_model=TokenOut, summary="Revoke a token",
               responses={404: {"description": "No such token"}})
def revoke_token(key: str, me: Viewer, app: Annotated[App, Depends(get_app)]) -> TokenOut:
    with app.store.transaction() as s:
        row = ids.revoke(s, key, app.clock.now(), by=me)
        owner = s.get(PrincipalRow, row.principal_id)
        _audit(app, s, me, "token_revoked", f"token {key}", {"owner": owner.name if owner else "?"})
        return _token_out(row, owner.name if owner else "?")


@router.get("/principals", response_model=list[PrincipalOut], summary="Users and service accounts")
def list_principals(me: Admin, app: Annotated[App, Depends(get_app)]) -> list[PrincipalOut]:
    with app.store.transaction() as s:
        return [_principal_out(r) for r in ids.list_principals(s)]


@router.post("/principals", response_model=PrincipalOut, status_code=201,
             summary="Create a user (password optional) or a service account (tokens only)")
def create_principal(body: PrincipalIn, me: Admin, app: Annotated[App, Depends(get_app)]) -> PrincipalOut:
    with app.store.transaction() as s:
        row = ids.create_principal(s, body.name, body.kind, body.role, app.clock.now(), password=body.password)
        _audit(app, s, me, "principal_created", f"{body.kind} {body.name}", {"role": body.role.value})
        return _principal_out(row)


@router.patch("/principals/{name}", response_model=PrincipalOut, summary="Change role, disable, set a password",
              responses={404: {"description": "No such principal"}})
def update_principal(name: str, body: PrincipalPatch, me: Admin,
                     app: Annotated[App, Depends(get_app)]) -> PrincipalOut:
    with app.store.transaction() as s:
        row = ids.get_principal(s, name)
        if row.id == me.id and (body.disabled or (body.role is not None and body.role is not Role.ADMIN)):
            raise ValidationFailed("an admin cannot disable or demote themselves (ask another admin)")
        if body.role is not None:
            row.role = body.role.value
        if body.disabled is not None:
            row.disabled = body.disabled
        if body.password is not None:
            ids.set_password(s, name, body.password)
        _audit(app, s, me, "principal_updated", f"{row.kind} {name}",
               {"role": body.role.value if body.role else None, "disabled": body.disabled,
                "password_changed": body.password is not None})
        return _principal_out(row)


OIDC_COOKIE = "steadyops_oidc"


def _oidc(app: App) -> OIDCConfig:
    if app.settings.auth.oidc is None:
        raise NotFound("OIDC login is not configured (auth.oidc)")
    return app.settings.auth.oidc


#: what a browser sees after the provider sent it back: straight on to the console (same-site, see below)
SIGNED_IN_PAGE = ('<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">'
                  '<title>steadyops</title><p><a href="/">steadyops</a></p>')


@router.get("/oidc/login", summary="Single sign-on: redirect to the OpenID Connect provider",
            responses={302: {"description": "Redirect to the provider"}, 404: {"description": "OIDC not configured"}})
def oidc_login(_: Public, app: Annotated[App, Depends(get_app)]) -> RedirectResponse:
    config = _oidc(app)
    url, state, nonce = oidc.authorization_url(config, oidc.discover(config))
    reply = RedirectResponse(url, status_code=302)
    # Lax, not Strict: the provider sends the browser back with a top-level cross-site GET
    reply.set_cookie(OIDC_COOKIE, f"{state}.{nonce}", max_age=600, httponly=True, samesite="lax",
                     secure=config.redirect_url.startswith("https://"), path="/api/v1/auth/oidc")
    return reply


@router.get("/oidc/callback", response_model=IssuedOut, summary="Where the provider returns: a session token",
            responses={401: {"description": "State, code or ID token rejected"},
                       200: {"description": "JSON for a client; for a browser (Accept: text/html) a page that "
                                             "goes on to the console, signed in",
                             "content": {"application/json": {}, "text/html": {}}}})
def oidc_callback(_: Public, request: Request, response: Response, app: Annotated[App, Depends(get_app)],
                  code: Annotated[str, Query(min_length=1, max_length=4096)],
                  state: Annotated[str, Query(min_length=1, max_length=512)]) -> IssuedOut | HTMLResponse:
    """A browser gets the session cookie and goes on to the console (the token never shows on a page);
    any other client gets the session token as JSON."""
    config = _oidc(app)
    expected, _dot, nonce = request.cookies.get(OIDC_COOKIE, "").partition(".")
    if not expected or not hmac.compare_digest(expected, state):
        raise Unauthenticated("OIDC state does not match this browser's login; start again")
    provider = oidc.discover(config)
    claims = oidc.verify_id_token(config, provider.jwks, oidc.exchange_code(config, provider, code), nonce)
    now = app.clock.now()
    with app.store.transaction() as s:
        user = oidc.upsert_user(s, config, claims, now)
        issued = ids.issue_token(s, user, now, name="oidc session", ttl=app.settings.auth.session_ttl,
                                 kind="session")
        audit_login(app, s, user, "oidc", issued.key)
    # a browser is sent on to the console by a page of ours, not by a 303: this response answers the
    # provider's cross-site redirect, and a SameSite=Strict cookie is not sent on a navigation that
    # chain started elsewhere; one the page itself starts is same-site, so the cookie stays Strict
    page = HTMLResponse(SIGNED_IN_PAGE) if "text/html" in request.headers.get("accept", "") else None
    reply = page or response
    reply.delete_cookie(OIDC_COOKIE, path="/api/v1/auth/oidc")
    reply.set_cookie(SESSION_COOKIE, issued.secret, max_age=int(app.settings.auth.session_ttl), httponly=True,
                     samesite="strict", secure=config.redirect_url.startswith("https://"), path="/")
    return page or _issued(issued)
