"""Who is looking at a console page, and what they may do there.

Pages use the API's own authentication (the session cookie set at login is an ordinary token), so
the console has no second identity model: a role that gets 403 from an API route gets the same
refusal from the page that would do the same thing. An anonymous browser is sent to the login
page instead of being shown a JSON error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse

from steadyops.auth import Principal, Role, RoleCheck
from steadyops.core.errors import Forbidden, Unauthenticated
from steadyops.core.i18n import Lang
from steadyops.web.render import csrf_ok, pick_lang

if TYPE_CHECKING:
    from steadyops.app import App


class LoginRequired(Unauthenticated):
    """Raised by a page dependency; turned into a redirect to ``/login?next=…``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def app_of(request: Request) -> App:
    app: App = request.app.state.app
    return app


def lang_of(request: Request) -> Lang:
    return pick_lang(request, app_of(request).settings.lang)


class PageRole(RoleCheck):
    """The API's role check for a page: anonymous → the login page instead of a JSON 401.

    A subclass, not a second mechanism, so the test that every route declares exactly one role
    covers the console's routes too.
    """

    def __call__(self, request: Request) -> Principal | None:
        try:
            return super().__call__(request)
        except Unauthenticated as exc:
            raise LoginRequired(request.url.path) from exc


_VIEWER, _RESPONDER, _APPROVER, _ADMIN = (PageRole(r) for r in (Role.VIEWER, Role.RESPONDER, Role.APPROVER,
                                                                   Role.ADMIN))


def viewer(me: Annotated[Principal, Depends(_VIEWER)]) -> Principal:
    return me


def responder(me: Annotated[Principal, Depends(_RESPONDER)]) -> Principal:
    return me


def approver(me: Annotated[Principal, Depends(_APPROVER)]) -> Principal:
    return me


def admin(me: Annotated[Principal, Depends(_ADMIN)]) -> Principal:
    return me


def checked_form(request: Request, csrf: str = Form(default="")) -> None:
    """A state-changing form must carry the page's CSRF token (a field, or htmx's header)."""
    if not csrf_ok(request, csrf or request.headers.get("x-csrf-token")):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_path)}", status_code=303)
