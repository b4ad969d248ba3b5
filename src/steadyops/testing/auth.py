"""Credentials for tests and plugin authors: the first-start admin token, and tokens for any role.

Tests authenticate the way real clients do (a bearer token checked by the server), so a test that
passes also proves the route's role check lets its caller in.
"""

from __future__ import annotations

from sqlalchemy import select

from steadyops.app import App
from steadyops.auth import identities
from steadyops.auth.bootstrap import ensure_admin, read_local_token
from steadyops.auth.roles import Role
from steadyops.store.tables import PrincipalRow


def admin_token(app: App) -> str:
    """The first-start admin token (created now if this store has no principal yet)."""
    made = ensure_admin(app.store, app.clock, app.settings.data_dir)
    token = made or read_local_token(app.settings.data_dir)
    if token is None:
        raise RuntimeError(f"no admin token in {app.settings.data_dir}; the store was bootstrapped elsewhere")
    return token


def token_for(app: App, name: str, role: Role | str, *, kind: str = "user", password: str | None = None) -> str:
    """A fresh token for ``name`` (created with ``role`` if new), e.g. ``token_for(app, "alice", "approver")``."""
    role = Role(role)
    with app.store.transaction() as s:
        row = s.scalar(select(PrincipalRow).where(PrincipalRow.name == name))
        if row is None:
            row = identities.create_principal(s, name, kind, role, app.clock.now(), password=password)
        return identities.issue_token(s, row, app.clock.now(), role=role, name="test").secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
