"""``steadyops serve``: the platform on its embedded defaults (SQLite, in-process runner)."""

from __future__ import annotations

import logging

import typer
import uvicorn

from steadyops.cli.common import CONFIG_EXIT, fail, state
from steadyops.config_errors import describe as describe_config_error
from steadyops.errors import ConfigError
from steadyops.i18n import t


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("", help="bind address (default from config: 127.0.0.1)"),
        port: int = typer.Option(0, help="port (default from config: 8900)"),
        log_level: str = typer.Option("info", help="debug, info, warning"),
    ) -> None:
        """Start the API, the pipeline and the notifiers in one process. / 启动服务。"""
        from steadyops.api import create_api
        from steadyops.app import build_app

        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = state.settings()
        if host:
            settings = settings.model_copy(update={"host": host})
        if port:
            settings = settings.model_copy(update={"port": port})
        try:
            core = build_app(settings)
        except ConfigError as exc:
            fail(describe_config_error(exc, state.lang), CONFIG_EXIT)
        store = core.settings.effective_database_url.split("@")[-1]
        typer.echo(t("cli.serving", state.lang, host=settings.host, port=settings.port, store=store))
        uvicorn.run(create_api(core), host=settings.host, port=settings.port, log_level=log_level,
                    access_log=log_level == "debug")
