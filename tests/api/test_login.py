"""Password login for the console: argon2-checked, a session token (and an HttpOnly SameSite cookie)."""

from __future__ import annotations

from sqlalchemy import select

from steadyops.app import App
from steadyops.store.tables import PrincipalRow
from steadyops.testing.auth import token_for
from tests.api.conftest import ANON, ClientFactory


async def test_login_session_cookie_and_logout(app: App, make_client: ClientFactory) -> None:
    token_for(app, "alice", "approver", password="correct horse battery")
    with app.store.transaction() as s:
        stored = s.scalar(select(PrincipalRow.password_hash).where(PrincipalRow.name == "alice"))
    assert stored is not None and stored.startswith("$argon2id$") and "correct" not in stored
    client = make_client(app, token=ANON)
    bad = await client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong horse battery"})
    nobody = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever12"})
    assert bad.status_code == nobody.status_code == 401 and bad.json()["detail"] == nobody.json()["detail"]
    r = await client.post("/api/v1/auth/login", json={"username": "alice", "password": "correct horse battery"})
    assert r.status_code == 200 and r.json()["role"] == "approver"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    me = await client.get("/api/v1/auth/whoami")  # the cookie alone authenticates the console
    assert me.json()["name"] == "alice" and me.json()["credential"].startswith("session:")
    assert (await client.post("/api/v1/auth/logout")).status_code == 200
    assert (await client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {r.json()['token']}"})
            ).status_code == 401  # the session was revoked, not only the cookie dropped
    short = await client.post("/api/v1/auth/principals", json={"name": "bob", "role": "viewer", "password": "short"},
                              headers={"Authorization": f"Bearer {token_for(app, 'root', 'admin')}"})
    assert short.status_code == 400 and "at least 10" in short.json()["detail"]
