"""``steadyops plugins``: what loaded, from where — the first thing to check when a channel type is unknown."""

from __future__ import annotations

import typer

from steadyops.cli.common import state
from steadyops.core.i18n import t


def register(app: typer.Typer) -> None:
    @app.command()
    def plugins() -> None:
        """List loaded plugins and the notifier types they provide. / 列出已加载的插件。"""
        from steadyops.plugins import load_plugins

        registry = load_plugins()
        typer.echo(t("cli.plugins_loaded", state.lang, count=len(registry.loaded)))
        for name in registry.loaded:
            typer.echo(f"  {name}")
        typer.echo(t("cli.notifiers", state.lang))
        for name in registry.notifiers.names():
            doc = (registry.notifiers.get(name).__doc__ or "").strip().splitlines()[0:1]
            typer.echo(f"  {name:<10} {doc[0] if doc else ''}")
