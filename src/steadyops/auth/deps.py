"""The one FastAPI dependency that authenticates a request and checks its role.

Every route declares exactly one of these; ``tests/api/test_route_roles.py`` walks the OpenAPI
routes and fails for a route without one. Use the aliases in a route's signature::

    from steadyops.auth import Viewer, Responder

    @router.get("/things")
    def list_things(me: Viewer, app: Annotated[App, Depends(get_app)]) -> ...: ...

    @router.post("/things/{id}/fix")
    def fix(id: int, me: Responder, ...) -> ...:
        ...  # me.name is the authenticated actor: never take "by" from the body

or, when the handler does not need the principal, ``dependencies=[Depends(require_role(Role.X))]``.
A route that must stay open (``/healthz``) says so with :data:`Public`.

Credentials, in order: ``Authorization: Bearer <token>``; ``Authorization: Basic`` with a token as
the password (what Alertmanager's ``http_config.basic_auth`` sends) or a user's password; the
console's session cookie. Missing or bad → 401; a role too low → 403.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Annotated, Protocol

from fastapi import Depends, Request

from steadyops.auth import identities
from steadyops.auth.principal import Principal
from steadyops.auth.roles import Role, allows
from steadyops.core.clock import Clock
from steadyops.core.errors import Forbidden, Unauthenticated
from steadyops.store import Store

SESSION_COOKIE = "steadyops_session"


class AuthApp(Protocol):
    """What authenticating needs of the composed App (``steadyops.app.App`` has it): its store and clock.
    Named here so auth does not import the composition root above it."""

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...


def _from_basic(app: AuthApp, value: str) -> Principal:
    try:
        user, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthenticated("malformed basic credentials") from exc
    with app.store.transaction() as s:
        if secret.startswith(identities.PREFIX):
            return identities.authenticate(s, secret, app.clock.now())
        row = identities.check_password(s, user, secret)
        return Principal(id=row.id, name=row.name, kind=row.kind, role=Role(row.role), credential="password")


def authenticate_credentials(app: AuthApp, authorization: str, session_token: str | None = None) -> Principal:
    """The principal for an ``Authorization`` header value (or a session cookie), or :class:`Unauthenticated`.

    Shared by the API, the MCP HTTP transport and anything else that speaks HTTP.
    """
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic" and value.strip():
        return _from_basic(app, value.strip())
    if scheme.lower() == "bearer" and value.strip():
        token: str | None = value.strip()
    elif authorization:
        raise Unauthenticated(f"unsupported authorization scheme {scheme!r}; use Bearer or Basic")
    else:
        token = session_token
    if not token:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")
    with app.store.transaction() as s:
        return identities.authenticate(s, token, app.clock.now())


def authenticate_request(request: Request) -> Principal:
    """The request's principal (once per request), or :class:`Unauthenticated`."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    app: AuthApp = request.app.state.app
    # GitLab webhooks can only send their "secret token" in X-Gitlab-Token: a steadyops token there counts
    fallback = request.headers.get("x-gitlab-token") or request.cookies.get(SESSION_COOKIE)
    principal = authenticate_credentials(app, request.headers.get("authorization", ""), fallback)
    request.state.principal = principal
    return principal


class RoleCheck:
    """A dependency requiring ``role`` (``None``: a deliberately public route)."""

    def __init__(self, role: Role | None) -> None:
        self.role = role

    def __call__(self, request: Request) -> Principal | None:
        if self.role is None:
            return None
        principal = authenticate_request(request)
        if not allows(principal.role, self.role):
            raise Forbidden(f"{principal.name} ({principal.role.value}) may not do this; it needs the "
                            f"{self.role.value} role")
        return principal

    def __repr__(self) -> str:
        return f"RoleCheck({self.role.value if self.role else 'public'})"


@functools.cache
def require_role(role: Role) -> RoleCheck:
    """The dependency for ``role``; one shared instance per role so FastAPI runs it once a request."""
    return RoleCheck(role)


PUBLIC = RoleCheck(None)

Ingest = Annotated[Principal, Depends(require_role(Role.INGEST))]
Viewer = Annotated[Principal, Depends(require_role(Role.VIEWER))]
Responder = Annotated[Principal, Depends(require_role(Role.RESPONDER))]
Approver = Annotated[Principal, Depends(require_role(Role.APPROVER))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Public = Annotated[None, Depends(PUBLIC)]
