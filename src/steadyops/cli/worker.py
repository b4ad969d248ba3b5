"""``steadyops worker``: a Celery worker process that runs inspections and remediation applies.

Run one per core (or more, on other machines) beside ``steadyops serve``, all with the same config:
``runner.engine: celery``, a ``runner.broker_url`` and a PostgreSQL ``database_url``. See the README
("Distributed mode") for when a fleet needs it.
"""

from __future__ import annotations

import logging

import typer

from steadyops.cli.common import CONFIG_EXIT, fail, state
from steadyops.config.errors import describe as describe_config_error
from steadyops.core.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        threads: int = typer.Option(0, help="messages worked on at once (default: runner.worker_threads)"),
        name: str = typer.Option("", help="Celery node name (default steadyops@<host>)"),
        log_level: str = typer.Option("info", help="debug, info, warning"),
    ) -> None:
        """Run jobs from the broker (distributed mode). / 分布式模式的工作进程：执行巡检与处置。"""
        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            from steadyops.app import build_app
            from steadyops.jobs.distributed import run_worker

            run_worker(state.settings(), build_app, threads=threads or None, name=name, loglevel=log_level.upper())
        except ConfigError as exc:
            fail(describe_config_error(exc, state.lang), CONFIG_EXIT)
