"""OpenID Connect login (Keycloak, Dex, Okta …): authorization code flow, ID token checked with joserfc.

Libraries, not hand-written crypto: authlib builds the authorization request, joserfc (authlib's
JOSE successor) verifies the ID token's signature against the provider's JWKS and its claims (issuer,
audience, expiry, nonce). The provider's groups/roles claim maps to a steadyops role through
``auth.oidc.role_map``; an account that maps to nothing is refused unless ``default_role`` is set,
so an IdP login alone never grants access.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.auth import identities
from steadyops.auth.roles import LADDER, Role
from steadyops.config.settings import OIDCConfig
from steadyops.core.errors import Conflict, Forbidden, TransientError, Unauthenticated
from steadyops.store.tables import PrincipalRow


@dataclass(frozen=True)
class Provider:
    """What discovery says about the IdP (``/.well-known/openid-configuration``)."""

    authorization_endpoint: str
    token_endpoint: str
    jwks: KeySet


def discover(config: OIDCConfig, client: httpx.Client | None = None) -> Provider:
    http = client or httpx.Client(timeout=10)
    try:
        meta = http.get(config.issuer.rstrip("/") + "/.well-known/openid-configuration").raise_for_status().json()
        jwks = http.get(meta["jwks_uri"]).raise_for_status().json()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise TransientError(f"OIDC discovery at {config.issuer} failed: {type(exc).__name__}") from exc
    finally:
        if client is None:
            http.close()
    return Provider(meta["authorization_endpoint"], meta["token_endpoint"], KeySet.import_key_set(jwks))


def authorization_url(config: OIDCConfig, provider: Provider) -> tuple[str, str, str]:
    """The URL to send the browser to, and the ``state`` and ``nonce`` to check on the way back."""
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    url: str = prepare_grant_uri(provider.authorization_endpoint, config.client_id, "code",
                                 redirect_uri=config.redirect_url, scope=" ".join(config.scopes), state=state,
                                 nonce=nonce)
    return url, state, nonce


def exchange_code(config: OIDCConfig, provider: Provider, code: str, client: httpx.Client | None = None) -> str:
    """Trade the authorization code for tokens at the token endpoint; the ID token (compact JWS)."""
    http = client or httpx.Client(timeout=10)
    secret = config.client_secret.get_secret_value() if config.client_secret else None
    try:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_url}
        if secret:  # client_secret_basic
            resp = http.post(provider.token_endpoint, data=form, auth=(config.client_id, secret),
                             headers={"Accept": "application/json"})
        else:  # a public client names itself in the form
            resp = http.post(provider.token_endpoint, data={**form, "client_id": config.client_id},
                             headers={"Accept": "application/json"})
        if resp.status_code >= 400:
            raise Unauthenticated(f"the identity provider refused the code (HTTP {resp.status_code})")
        return str(resp.json()["id_token"])
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise TransientError(f"OIDC token exchange failed: {type(exc).__name__}") from exc
    finally:
        if client is None:
            http.close()


def verify_id_token(config: OIDCConfig, jwks: KeySet, id_token: str, nonce: str,
                    now: float | None = None) -> dict[str, Any]:
    """The ID token's claims after checking signature, issuer, audience, expiry and nonce."""
    try:
        token = jwt.decode(id_token, jwks, algorithms=["RS256", "ES256", "PS256", "EdDSA"])
        registry = jwt.JWTClaimsRegistry(now=int(now if now is not None else time.time()), leeway=60,
                                         iss={"essential": True, "value": config.issuer},
                                         aud={"essential": True, "value": config.client_id},
                                         sub={"essential": True}, exp={"essential": True},
                                         nonce={"essential": True, "value": nonce})
        registry.validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise Unauthenticated(f"ID token rejected: {exc}") from exc
    return dict(token.claims)


def role_for(config: OIDCConfig, claims: dict[str, Any]) -> Role:
    """The highest role any of the user's groups maps to (or ``default_role``); Forbidden if none."""
    raw = claims.get(config.roles_claim, [])
    groups = [raw] if isinstance(raw, str) else [str(g) for g in raw] if isinstance(raw, list) else []
    mapped = [Role(config.role_map[g]) for g in groups if g in config.role_map]
    if not mapped and config.default_role:
        mapped = [Role(config.default_role)]
    if not mapped:
        raise Forbidden(f"no steadyops role for the groups in claim {config.roles_claim!r}; ask an admin")
    human = [r for r in mapped if r in LADDER]
    return max(human, key=LADDER.index) if human else mapped[0]


def upsert_user(session: Session, config: OIDCConfig, claims: dict[str, Any], now: Any) -> PrincipalRow:
    """The OIDC user (by ``iss|sub``), created on first login; the role follows the IdP every login."""
    subject = f"{claims['iss']}|{claims['sub']}"
    role = role_for(config, claims)
    row = session.scalar(select(PrincipalRow).where(PrincipalRow.oidc_subject == subject))
    if row is None:
        name = str(claims.get(config.username_claim) or claims["sub"])
        if session.scalar(select(PrincipalRow.id).where(PrincipalRow.name == name)) is not None:
            raise Conflict(f"a local account named {name!r} exists; an admin must link or rename it")
        row = identities.create_principal(session, name, "user", role, now, oidc_subject=subject)
    if row.disabled:
        raise Unauthenticated(f"{row.name} is disabled")
    row.role = role.value
    return row
