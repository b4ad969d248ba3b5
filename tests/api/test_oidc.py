"""OIDC login: real keys and real ID tokens (joserfc), claim checks, group → role mapping, user
provisioning, the callback's state check, and the whole browser flow against a running provider."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from steadyops.app import App
from steadyops.auth import Role, oidc
from steadyops.config.settings import OIDCConfig
from steadyops.core.errors import Conflict, Forbidden, Unauthenticated
from steadyops.server import create_server
from steadyops.testing.auth import token_for
from tests.api.conftest import ANON, ClientFactory

ISSUER = "https://sso.example.test/realms/ops"
CONFIG = OIDCConfig(issuer=ISSUER, client_id="steadyops", redirect_url="https://ops.example.test/cb",
                    role_map={"sre": "responder", "sre-leads": "approver", "platform": "admin"})


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)


def id_token(key: RSAKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "steadyops", "sub": "u-42", "exp": now + 300, "iat": now, "nonce": "n1",
              "preferred_username": "wang.wei", "groups": ["sre", "sre-leads"], **overrides}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def test_id_token_checks(key: RSAKey) -> None:
    public = KeySet.import_key_set(KeySet([key]).as_dict(private=False))
    claims = oidc.verify_id_token(CONFIG, public, id_token(key), nonce="n1")
    assert claims["sub"] == "u-42"
    bad = {"nonce": "replayed", "aud": "another-client", "iss": "https://evil.test", "exp": int(time.time()) - 600}
    for claim, value in bad.items():
        with pytest.raises(Unauthenticated):
            oidc.verify_id_token(CONFIG, public, id_token(key, **{claim: value}), nonce="n1")
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    with pytest.raises(Unauthenticated):  # signed by someone else's key
        oidc.verify_id_token(CONFIG, public, id_token(stranger), nonce="n1")


def test_groups_map_to_the_highest_role_and_nothing_maps_to_nothing() -> None:
    assert oidc.role_for(CONFIG, {"groups": ["sre", "sre-leads"]}) is Role.APPROVER
    assert oidc.role_for(CONFIG, {"groups": "platform"}) is Role.ADMIN
    with pytest.raises(Forbidden):
        oidc.role_for(CONFIG, {"groups": ["marketing"]})
    lenient = CONFIG.model_copy(update={"default_role": "viewer"})
    assert oidc.role_for(lenient, {}) is Role.VIEWER


def test_first_login_creates_the_user_and_the_idp_keeps_the_role(app: App) -> None:
    now = app.clock.now()
    claims = {"iss": ISSUER, "sub": "u-42", "preferred_username": "wang.wei", "groups": ["sre"]}
    with app.store.transaction() as s:
        row = oidc.upsert_user(s, CONFIG, claims, now)
        assert (row.name, row.role, row.kind, row.password_hash) == ("wang.wei", "responder", "user", None)
    with app.store.transaction() as s:  # promoted in the IdP: promoted here on the next login
        assert oidc.upsert_user(s, CONFIG, {**claims, "groups": ["sre-leads"]}, now).role == "approver"
    token_for(app, "li.na", "viewer")  # a local account cannot be taken over by an IdP user of that name
    with app.store.transaction() as s, pytest.raises(Conflict):
        oidc.upsert_user(s, CONFIG, {"iss": ISSUER, "sub": "u-7", "preferred_username": "li.na",
                                     "groups": ["platform"]}, now)


async def test_routes_without_configuration_or_state(make_app: Any, make_client: ClientFactory) -> None:
    plain = make_client(make_app(), token=ANON)
    assert (await plain.get("/api/v1/auth/oidc/login")).status_code == 404
    configured = make_client(make_app(auth={"oidc": CONFIG.model_dump()}), token=ANON)
    r = await configured.get("/api/v1/auth/oidc/callback", params={"code": "c", "state": "forged"})
    assert r.status_code == 401 and "state" in r.json()["detail"]  # no login started in this browser


async def test_a_browser_signs_in_through_a_real_provider(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole code flow against a running OpenID provider (oidc-provider-mock: discovery, JWKS, a real
    authorization endpoint and token endpoint): the browser lands on the console signed in, the token
    never shows on a page, and the login is audited with its credential."""
    import oidc_provider_mock as provider_mock  # a test dependency (pyproject: test extras)
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider on loopback speaks plain HTTP
    with provider_mock.run_server_in_thread() as provider:
        issuer = f"http://localhost:{provider.server_port}"
        httpx.put(f"{issuer}/users/u-42", json={"preferred_username": "wang.wei", "groups": ["sre"]}) \
            .raise_for_status()
        app = make_app(auth={"oidc": {"issuer": issuer, "client_id": "steadyops", "client_secret": "s3cret",
                                      "redirect_url": "http://console.test/api/v1/auth/oidc/callback",
                                      "role_map": {"sre": "responder"}}})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_server(app, run_pipeline=False)),
                                     base_url="http://console.test", headers={"Accept": "text/html"}) as browser:
            start = await browser.get("/api/v1/auth/oidc/login")
            assert start.status_code == 302 and start.headers["location"].startswith(f"{issuer}/oauth2/authorize")
            # the person picks their account at the provider, which sends the browser back with a code
            chosen = httpx.post(start.headers["location"], data={"sub": "u-42"})
            assert chosen.status_code == 302, chosen.text
            back = chosen.headers["location"]
            assert back.startswith("http://console.test/api/v1/auth/oidc/callback?")
            landed = await browser.get(back)
            assert landed.status_code == 200 and 'url=/"' in landed.text and "so_" not in landed.text
            console = await browser.get("/")
            assert console.status_code == 200 and "wang.wei" in console.text
            # no replay: the login state cookie is spent
            assert (await browser.get(back)).status_code == 401
    [login] = [e for e in app.audit.entries() if e.kind == "login"]
    assert (login.actor, login.payload["credential"]) == ("wang.wei", "oidc")
