"""``steadyops serve``: the platform on its embedded defaults (SQLite, in-process runner)."""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket

import typer
import uvicorn

from steadyops.auth.bootstrap import ensure_admin, token_path
from steadyops.cli.common import CONFIG_EXIT, fail, state
from steadyops.config.errors import describe as describe_config_error
from steadyops.config.settings import Settings
from steadyops.core import heap
from steadyops.core.errors import ConfigError
from steadyops.core.i18n import t

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("", help="bind address (default from config: 127.0.0.1)"),
        port: int = typer.Option(0, help="port (default from config: 8900)"),
        log_level: str = typer.Option("info", help="debug, info, warning"),
    ) -> None:
        """Start the API, the pipeline (ingestion in a child it owns) and the notifiers. / 启动服务。"""
        from steadyops.app import build_app
        from steadyops.server import create_server

        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = state.settings()
        if host:
            settings = settings.model_copy(update={"host": host})
        if port:
            settings = settings.model_copy(update={"port": port})
        if settings.pipeline_process is None:  # intake and ingestion on a core each (pipeline/ingester.py)
            settings = settings.model_copy(update={"pipeline_process": True})
        tls = check_listen(settings)  # before anything is created or bound
        try:  # bind first: a busy port is one clear line, before anything says "listening"
            sock = listen(settings.host, settings.port)
        except OSError as exc:
            fail(t("cli.port_busy" if exc.errno == errno.EADDRINUSE else "cli.cannot_listen", state.lang,
                   host=settings.host, port=settings.port, reason=exc.strerror or exc))
        try:
            core = build_app(settings)
        except ConfigError as exc:
            sock.close()
            fail(describe_config_error(exc, state.lang), CONFIG_EXIT)
        token = ensure_admin(core.store, core.clock, core.settings.data_dir)
        if token is not None:
            path = token_path(core.settings.data_dir)
            typer.echo(t("auth.first_admin", state.lang, path=path, token=token), err=True)
        store = core.settings.effective_database_url.split("@")[-1]
        typer.echo(t("cli.serving", state.lang, host=settings.host, port=settings.port, store=store))
        config = uvicorn.Config(create_server(core), host=settings.host, port=settings.port, log_level=log_level,
                                access_log=log_level == "debug", ssl_certfile=tls[0], ssl_keyfile=tls[1])
        server = uvicorn.Server(config)
        heap.settle()  # the app is built: what exists now lives as long as the process (core/heap.py)
        server.run(sockets=[sock])


def check_listen(settings: Settings) -> tuple[str | None, str | None]:
    """Refuse to listen beyond loopback without TLS, unless a TLS-terminating proxy is declared.

    Every request needs a token, and a token over plain HTTP on a network is as good as published.
    Returns uvicorn's TLS certificate and key files (None, None: plain HTTP).
    """
    auth = settings.auth
    tls = ((str(auth.tls_certfile), str(auth.tls_keyfile)) if auth.tls_certfile and auth.tls_keyfile
           else (None, None))
    if tls[0] or is_loopback(settings.host):
        return tls
    if auth.behind_tls_proxy:
        message = t("serve.proxy_optout", state.lang, host=settings.host)
        log.warning(message)
        typer.echo(message, err=True)
        return tls
    fail(t("serve.refuse_bind", state.lang, host=settings.host), code=2)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False



def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (IPv4 or IPv6), as uvicorn would open it; OSError if it cannot."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
