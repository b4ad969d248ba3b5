"""Shared CLI state and helpers: language, settings, the API client, error printing.

One client path: commands that read or change platform state call the server's API with a token:
``--token`` / ``STEADYOPS_TOKEN``, else the one ``steadyops login`` saved for that server (cli/login.py),
else the first-start admin token the server wrote (0600) into its data directory, which is how the
CLI on the server's own machine just works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer

from steadyops.cli.api_errors import render as render_api_error
from steadyops.config.errors import describe as describe_config_error
from steadyops.config.settings import Settings, _default_lang, load_settings
from steadyops.core.errors import ConfigError
from steadyops.core.i18n import Lang, normalise, t


@dataclass
class CliState:
    lang_flag: str = ""
    config_path: str = ""
    server_flag: str = ""
    token_flag: str = ""
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(Path(self.config_path) if self.config_path else None)
            except ConfigError as exc:
                # the language cannot come from the settings being reported: flag, then env/locale
                lang = normalise(self.lang_flag or _default_lang())
                typer.echo(t("cli.error", lang, msg=describe_config_error(exc, lang, Settings)), err=True)
                raise typer.Exit(CONFIG_EXIT) from None
        return self._settings

    @property
    def lang(self) -> Lang:
        if self.lang_flag:
            return normalise(self.lang_flag)
        return normalise(self.settings().lang)

    def server(self) -> str:
        if self.server_flag:
            return self.server_flag.rstrip("/")
        s = self.settings()
        host = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host
        return f"http://{host}:{s.port}"

    def token(self) -> str | None:
        """``--token``/``STEADYOPS_TOKEN``; else the token ``steadyops login`` saved for this very server;
        else the local admin token, but only for a server on this machine (loopback), so a laptop's own
        admin token is never sent to some other server."""
        if self.token_flag:
            return self.token_flag.strip()
        from steadyops.auth.bootstrap import read_local_token
        from steadyops.cli.login import saved_token
        from steadyops.cli.serve import is_loopback

        saved = saved_token(self.server())
        if saved:
            return saved
        host = httpx.URL(self.server()).host
        return read_local_token(self.settings().data_dir) if is_loopback(host) else None

    def client(self) -> httpx.Client:
        token = self.token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.server(), timeout=30, headers=headers)


state = CliState()

#: exit status for a configuration the platform will not start with (like a usage error)
CONFIG_EXIT = 2


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(t("cli.error", state.lang, msg=message), err=True)
    raise typer.Exit(code)


def request(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """Call the API and return (status, body) even on 4xx, for commands that explain refusals
    themselves; an unreachable server or a 401/5xx still ends the command."""
    try:
        with state.client() as client:
            resp = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        fail(f"cannot reach {state.server()}: {type(exc).__name__}")
    if resp.status_code == 401 or resp.status_code >= 500:
        call_failed(resp)
    try:
        return resp.status_code, resp.json() if resp.content else None
    except ValueError:
        return resp.status_code, {"detail": resp.text}


def call_failed(resp: httpx.Response) -> NoReturn:
    """The server's refusal in the CLI's language (:mod:`steadyops.cli.api_errors`)."""
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text
    message = render_api_error(resp.status_code, body, state.lang)
    if resp.status_code == 401:
        message = f"{message} ({t('cli.need_token', state.lang)})"
    fail(message)


def call(method: str, path: str, **kwargs: Any) -> Any:
    """Call the API; print the server's own error message on 4xx/5xx."""
    try:
        with state.client() as client:
            resp = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        fail(t("apierr.unreachable", state.lang, server=state.server(), reason=type(exc).__name__))
    if resp.status_code >= 400:
        call_failed(resp)
    return resp.json() if resp.content else None
