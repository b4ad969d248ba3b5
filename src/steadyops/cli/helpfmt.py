"""``--help`` without a ``<bool>`` type column.

Typer (0.2x, with its vendored click) shows every option's type in ``--help``, and its built-in
help option is a boolean flag, so every help page starts with ``--help <bool>`` — noise a
newcomer reads as "--help takes a value". The help option is built in one place per command;
giving it an empty metavar blanks that cell and nothing else. If a later typer moves the method,
this does nothing (the help stays correct, only noisier); ``tests/cli`` notices.
"""

from __future__ import annotations

from typing import Any


def quiet_help_type() -> None:
    try:
        from typer._click.core import Command
    except ImportError:  # pragma: no cover - a typer without the vendored click
        return
    original = Command.get_help_option
    if getattr(original, "_steadyops_quiet", False):
        return

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.metavar = ""
        return option

    get_help_option._steadyops_quiet = True  # type: ignore[attr-defined]
    Command.get_help_option = get_help_option  # type: ignore[method-assign]
