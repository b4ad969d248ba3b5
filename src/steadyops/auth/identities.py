"""Users, service accounts and API tokens in the store.

A token looks like ``so_<key>_<secret>``: ``key`` (public, 12 hex) finds the row, ``secret``
(256 random bits) is checked against its SHA-256 in constant time. Random tokens need no slow
hash; passwords, chosen by people, get argon2 (auth/passwords.py). Tokens are scoped (a role no
higher than the owner's), may expire, and can be revoked; disabling a principal stops all of its
tokens at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from steadyops.auth import passwords
from steadyops.auth.principal import Principal
from steadyops.auth.roles import Role, at_most
from steadyops.core.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from steadyops.store.tables import PrincipalRow, TokenRow

PREFIX = "so_"
KINDS = ("user", "service")


@dataclass(frozen=True)
class IssuedToken:
    """A token as created: ``secret`` is the only time the plaintext exists outside the caller."""

    id: int
    key: str
    principal: str
    role: Role
    expires_at: datetime | None
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def count_principals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PrincipalRow)) or 0)


def get_principal(session: Session, name: str) -> PrincipalRow:
    row = session.scalar(select(PrincipalRow).where(PrincipalRow.name == name))
    if row is None:
        raise NotFound(f"no user or service account named {name!r}")
    return row


def create_principal(session: Session, name: str, kind: str, role: Role, now: datetime,
                     password: str | None = None, oidc_subject: str | None = None) -> PrincipalRow:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("name must be 1–200 characters")
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "service" and password:
        raise ValidationFailed("service accounts authenticate with tokens only, not passwords")
    if session.scalar(select(PrincipalRow.id).where(PrincipalRow.name == name)) is not None:
        raise Conflict(f"{name!r} already exists")
    row = PrincipalRow(name=name, kind=kind, role=role.value, created_at=now, disabled=False,
                       password_hash=passwords.hash_password(password) if password else None,
                       oidc_subject=oidc_subject)
    session.add(row)
    session.flush()
    return row


def issue_token(session: Session, owner: PrincipalRow, now: datetime, *, role: Role | None = None,
                name: str = "", ttl: float | None = None, kind: str = "api") -> IssuedToken:
    """Mint a token for ``owner``; ``role`` narrows its scope (never widens it)."""
    ceiling = Role(owner.role)
    scope = role or ceiling
    if not at_most(scope, ceiling):
        raise Forbidden(f"{owner.name} has role {ceiling.value}; a token for {scope.value} would exceed it")
    key = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=ttl) if ttl else None
    row = TokenRow(key=key, principal_id=owner.id, name=name[:200], secret_hash=_hash(secret), role=scope.value,
                   kind=kind, created_at=now, expires_at=expires)
    session.add(row)
    session.flush()
    return IssuedToken(id=row.id, key=key, principal=owner.name, role=scope, expires_at=expires,
                       secret=f"{PREFIX}{key}_{secret}")


def authenticate(session: Session, token: str, now: datetime) -> Principal:
    """The principal a presented token stands for, or :class:`Unauthenticated` saying why not.

    Every API request comes through here, so it is one Core query (token joined to its owner)
    rather than two ORM loads: on the alert intake the ORM version cost as much as journalling
    the alerts. Nothing is cached, so a revocation or a disabled owner counts at once, in every
    process."""
    if not token.startswith(PREFIX) or token.count("_") < 2:
        raise Unauthenticated("malformed token")
    key, _, secret = token[len(PREFIX):].partition("_")
    t, p = TokenRow.__table__.c, PrincipalRow.__table__.c
    found = session.execute(
        select(t.id, t.secret_hash, t.revoked_at, t.expires_at, t.role, t.kind, t.last_used_at,
               p.id, p.name, p.kind, p.role, p.disabled)
        .join_from(TokenRow.__table__, PrincipalRow.__table__, t.principal_id == p.id, isouter=True)
        .where(t.key == key)
    ).first()
    if found is None or not hmac.compare_digest(found[1], _hash(secret)):
        raise Unauthenticated("unknown token")
    token_id, _digest, revoked_at, expires_at, scope_name, kind, last_used, owner_id, name, owner_kind, owner_role, \
        disabled = found
    if revoked_at is not None:
        raise Unauthenticated(f"token {key} was revoked")
    if expires_at is not None and expires_at <= now:
        raise Unauthenticated(f"token {key} expired at {expires_at.isoformat()}")
    if owner_id is None or disabled:
        raise Unauthenticated(f"the owner of token {key} is disabled")
    # a token never outranks its owner, even if the owner's role was lowered after it was minted
    scope, ceiling = Role(scope_name), Role(owner_role)
    effective = scope if at_most(scope, ceiling) else ceiling
    if last_used is None or (now - last_used).total_seconds() > 60:
        session.execute(update(TokenRow).where(TokenRow.id == token_id).values(last_used_at=now))
    return Principal(id=owner_id, name=name, kind=owner_kind, role=effective,
                     credential=f"{'session' if kind == 'session' else 'token'}:{key}")


def check_password(session: Session, name: str, password: str) -> PrincipalRow:
    """The user with that name and password; one vague error for every failure (no user probing)."""
    row = session.scalar(select(PrincipalRow).where(PrincipalRow.name == name))
    stored = row.password_hash if row is not None and not row.disabled and row.kind == "user" else None
    if not passwords.verify(stored, password):
        raise Unauthenticated("wrong user name or password")
    assert row is not None
    return row


def set_password(session: Session, name: str, password: str) -> None:
    row = get_principal(session, name)
    if row.kind != "user":
        raise ValidationFailed("service accounts authenticate with tokens only, not passwords")
    row.password_hash = passwords.hash_password(password)


def revoke(session: Session, key: str, now: datetime, *, by: Principal | None = None) -> TokenRow:
    """Revoke a token; a non-admin may revoke only their own."""
    row = session.scalar(select(TokenRow).where(TokenRow.key == key))
    if row is None:
        raise NotFound(f"no token {key!r}")
    if by is not None and by.role is not Role.ADMIN and row.principal_id != by.id:
        raise Forbidden("only an admin may revoke another principal's token")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def list_tokens(session: Session, principal_id: int | None = None) -> list[tuple[TokenRow, str]]:
    stmt = select(TokenRow, PrincipalRow.name).join(PrincipalRow, PrincipalRow.id == TokenRow.principal_id)
    if principal_id is not None:
        stmt = stmt.where(TokenRow.principal_id == principal_id)
    return [(t, n) for t, n in session.execute(stmt.order_by(TokenRow.id)).all()]


def list_principals(session: Session) -> list[PrincipalRow]:
    return list(session.scalars(select(PrincipalRow).order_by(PrincipalRow.id)))
