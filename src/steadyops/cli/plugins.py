"""``steadyops plugins``: what loaded, from where, and what each plugin brought — the first thing to check
when a channel type, a check or a ``do`` phrase is unknown."""

from __future__ import annotations

import typer

from steadyops.cli.common import state
from steadyops.core.i18n import t
from steadyops.execution.where import ssh_missing
from steadyops.plugins import Registry


def contributions(registry: Registry, plugin: str) -> list[tuple[str, list[str]]]:
    """(catalogue, names) for everything ``plugin`` registered, in a fixed order; empty ones left out."""
    commands = [f"{name} ({' / '.join(registry.commands.get(name).phrases[:3])})"
                for name in registry.commands if registry.commands.origin(name) == plugin]
    cleanups = [f"{kind} → {registry.cleanups.get(kind).action}"
                for kind in registry.cleanups if registry.cleanups.origin(kind) == plugin]
    rows = [
        ("checks", [n for n in registry.checks if registry.checks.origin(n) == plugin]),
        ("collectors", [n for n in registry.collectors if registry.collectors.origin(n) == plugin]),
        ("actions", [n for n in registry.actions if registry.actions.origin(n) == plugin]),
        ("notifiers", [n for n in registry.notifiers if registry.notifiers.origin(n) == plugin]),
        ("commands", commands),
        ("cleanups", cleanups),
        ("sections", [n for n in registry.report_sections if registry.report_sections.origin(n) == plugin]),
        ("toolsets", [n for n in registry.toolsets if registry.toolsets.origin(n) == plugin]),
        ("runbooks", [f"{p}/runbooks" for p in registry.runbooks if registry.runbooks.origin(p) == plugin]),
    ]
    return [(what, names) for what, names in rows if names]


def register(app: typer.Typer) -> None:
    @app.command()
    def plugins() -> None:
        """List loaded plugins, what each brings, and the notifier types. / 列出已加载的插件。"""
        from steadyops.plugins import load_plugins

        registry = load_plugins()
        lang = state.lang
        typer.echo(t("cli.plugins_loaded", lang, count=len(registry.loaded)))
        for name in registry.loaded:
            typer.echo(f"  {name}")
            for what, names in contributions(registry, name):
                typer.echo(f"    {t(f'cli.plugin.{what}', lang)}: {', '.join(names)}")
        if registry.missing:
            typer.echo(t("cli.plugins_missing", lang, count=len(registry.missing)))
            for name, why in registry.missing.items():
                typer.echo(f"  {name}: {why}")
        ssh = ssh_missing()
        if ssh:  # this machine is inspected as usual; remote hosts report the same on each of their checks
            typer.echo(t("cli.ssh_missing", lang, why=ssh))
        typer.echo(t("cli.notifiers", lang))
        for name in registry.notifiers.names():
            doc = (registry.notifiers.get(name).__doc__ or "").strip().splitlines()[0:1]
            typer.echo(f"  {name:<10} {doc[0] if doc else ''}")
