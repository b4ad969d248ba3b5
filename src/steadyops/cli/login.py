"""``steadyops login`` / ``steadyops logout``: the CLI's own token, saved in the user's home, per server.

Why: the first-start admin token only helps on the server's own machine, and ``--token`` on every
command puts the secret into shell history. ``login`` asks for the password once (or takes a token
with ``--token``), mints a named API token for this machine — listed and revocable with
``steadyops tokens`` like any other — and saves it readable by the owner only (0600, in a 0700
directory) in ``$XDG_CONFIG_HOME/steadyops/credentials.json`` (``~/.config/…`` by default). Tokens
are kept per server URL, so a token is only ever sent to the server that issued it. ``logout``
revokes the token on the server and forgets it.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from steadyops.auth.bootstrap import write_secret
from steadyops.cli.common import call_failed, fail, state
from steadyops.core.i18n import t

CREDENTIALS = "credentials.json"


def credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "steadyops" / CREDENTIALS


def _load() -> dict[str, Any]:
    """The saved tokens; a file others can read is not used (as ssh treats a private key)."""
    path = credentials_path()
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            typer.echo(t("login.too_open", state.lang, path=path), err=True)
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, Any]) -> Path:
    path = credentials_path()
    write_secret(path, json.dumps(data, indent=2, sort_keys=True))
    return path


def saved_token(server: str) -> str | None:
    """The token ``login`` saved for ``server`` (exactly this URL), if any."""
    entry = _load().get("servers", {}).get(server.rstrip("/"))
    token = entry.get("token") if isinstance(entry, dict) else None
    return str(token) if token else None


def _remember(server: str, token: str, who: dict[str, Any]) -> Path:
    data = _load()
    servers = data.setdefault("servers", {})
    servers[server.rstrip("/")] = {"token": token, "name": who.get("name"), "role": who.get("role")}
    return _save(data)


def _request(method: str, path: str, token: str | None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(base_url=state.server(), timeout=30, headers=headers) as client:
            resp = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        fail(t("apierr.unreachable", state.lang, server=state.server(), reason=type(exc).__name__))
    if resp.status_code >= 400:
        call_failed(resp)
    return resp.json() if resp.content else None


def login(
    user: Annotated[str, typer.Option("--user", "-u", help="user name (default: your login name) / 用户名")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin / "
                                                                          "从标准输入读取密码")] = False,
) -> None:
    """Save a token for this CLI in your home (0600): asks your password once, or keeps --token. / 登录并保存令牌。"""
    server = state.server()
    if state.token_flag:  # a token given with --token / STEADYOPS_TOKEN: check it, then keep it
        token = state.token_flag.strip()
    else:
        name = user or getpass.getuser()
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt(t("login.password", state.lang, user=name, server=server), hide_input=True)
        session = _request("POST", "/api/v1/auth/login", None, json={"username": name, "password": password})
        made = _request("POST", "/api/v1/auth/tokens", session["token"],
                        json={"name": f"cli on {socket.gethostname()}"[:200]})
        _request("POST", "/api/v1/auth/logout", session["token"])  # the session was only the way in
        token = made["token"]
    who = _request("GET", "/api/v1/auth/whoami", token)
    path = _remember(server, token, who)
    typer.echo(t("login.saved", state.lang, server=server, name=who["name"], role=who["role"], path=path))


def logout() -> None:
    """Revoke this CLI's saved token on the server and forget it. / 吊销并删除本机保存的令牌。"""
    server = state.server().rstrip("/")
    data = _load()
    entry = data.get("servers", {}).pop(server, None)
    token = entry.get("token") if isinstance(entry, dict) else None
    if not token:
        fail(t("login.none_saved", state.lang, server=server))
    key = str(token).split("_")[1] if str(token).count("_") >= 2 else ""
    _save(data)  # forgotten here whatever the server says
    try:
        with httpx.Client(base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
            resp = client.delete(f"/api/v1/auth/tokens/{key}")
    except httpx.TransportError as exc:
        fail(t("apierr.unreachable", state.lang, server=server, reason=type(exc).__name__))
    if resp.status_code >= 400 and resp.status_code != 401:  # 401: already revoked or expired, nothing to undo
        call_failed(resp)
    typer.echo(t("login.forgotten", state.lang, server=server, token=key))


__all__ = ["credentials_path", "login", "logout", "saved_token"]
