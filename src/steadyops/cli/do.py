"""``steadyops do "…"``: the on-call phrases (``zk检测``, ``巡检 redis``, ``磁盘清理 all``) without any LLM.

The deterministic grammar in :mod:`steadyops.agent.commands` decides the intent; this module only
dispatches, each intent to the path that already owns it:

* ``inspect`` / ``zk_check`` run in-process exactly like ``steadyops inspect`` (same scope, so the
  reports of ``巡检 redis`` and ``inspect --kind redis`` are compared with each other);
* ``incidents`` asks the server, like ``steadyops incidents list``: incidents are the pipeline's
  state, and the server is its single owner (it may be on another machine or on PostgreSQL);
* ``disk_cleanup`` proposes actions through the API, like ``steadyops act plan``, so the plan,
  the approval policy and the audit log apply unchanged — the CLI never deletes anything itself.

An unknown phrase exits 2 with the grammar's suggestions instead of guessing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steadyops.agent.commands import EXAMPLES, Command, UnknownCommand, parse
from steadyops.cli import cleanup
from steadyops.cli import inspect as inspect_cli
from steadyops.cli.common import fail, state
from steadyops.cli.output import OutputFormat
from steadyops.errors import ValidationFailed
from steadyops.i18n import t

ZK = "zookeeper"


def _unknown(text: str, exc: UnknownCommand) -> None:
    lang = state.lang
    typer.echo(t("do.unknown", lang, text=text), err=True)
    if exc.suggestions:
        typer.echo(t("do.suggest", lang, items=" | ".join(exc.suggestions)), err=True)
    typer.echo(t("do.examples", lang, items=" | ".join(EXAMPLES)), err=True)
    raise typer.Exit(2)


def _targets(cmd: Command) -> list[str]:
    return [cmd.target] if cmd.target and cmd.target != "all" else []


def _zk_check(cmd: Command, fmt: inspect_cli.ReportFormat, out: Path | None, progress: bool | None) -> int:
    """All ZooKeeper checks on all (or the addressed) ZooKeeper targets; the report adds the localisation."""
    from steadyops.reports.scope import match_targets

    lang = state.lang
    core = inspect_cli.local_app()
    try:
        zk = [tg.name for tg in core.inventory.targets.values() if tg.kind == ZK]
        wanted = _targets(cmd)
        if wanted:
            zk = [name for name in match_targets(core.inventory, wanted[0]) if name in zk]
        if not zk:
            where = t("do.zk_at", lang, target=wanted[0]) if wanted else ""
            fail(t("do.no_zk", lang, where=where), code=2)
        if not core.registry.checks_for(ZK):
            fail(t("do.no_zk_checks", lang), code=2)
        return inspect_cli.run_report(core, kinds=[ZK], targets=wanted, fmt=fmt, out=out, progress=progress)
    finally:
        core.close()


def _inspect(cmd: Command, fmt: inspect_cli.ReportFormat, out: Path | None, progress: bool | None) -> int:
    core = inspect_cli.local_app()
    try:
        return inspect_cli.run_report(core, kinds=[cmd.kind] if cmd.kind else [], targets=_targets(cmd), fmt=fmt,
                                      out=out, progress=progress)
    finally:
        core.close()


def _incidents(fmt: inspect_cli.ReportFormat) -> int:
    from steadyops.cli.incidents import list_incidents

    list_incidents(status="", limit=50, fmt=OutputFormat.JSON if fmt is inspect_cli.ReportFormat.JSON
                   else OutputFormat.TABLE)
    return 0


def register(app: typer.Typer) -> None:
    @app.command("do")
    def do_cmd(
        words: Annotated[list[str], typer.Argument(help='e.g. "zk检测", "巡检 redis", "磁盘清理 all", "事件列表"')],
        fmt: inspect_cli.FormatOpt = inspect_cli.ReportFormat.TABLE,
        out: inspect_cli.OutOpt = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="apply auto-approved cleanup plans without asking")]
        = False,
        by: Annotated[str, typer.Option("--by", help="who you are (default: login name) / 操作人")] = "",
        param: Annotated[list[str] | None, typer.Option("--param", "-p",
                                                        help="key=value for cleanup actions that accept it")] = None,
        lang: inspect_cli.LangOpt = "",
        progress: inspect_cli.ProgressOpt = None,
    ) -> None:
        """Run an on-call phrase: 巡检 / zk检测 / 磁盘清理 / 事件列表 (zh or en). / 自然语言运维指令。"""
        if lang:
            state.lang_flag = lang
        text = " ".join(words)
        try:
            cmd = parse(text)
        except UnknownCommand as exc:
            _unknown(text, exc)
            return
        except ValidationFailed as exc:
            fail(str(exc), code=2)
        if cmd.intent == "zk_check":
            code = _zk_check(cmd, fmt, out, progress)
        elif cmd.intent == "inspect":
            code = _inspect(cmd, fmt, out, progress)
        elif cmd.intent == "incidents":
            code = _incidents(fmt)
        else:
            code = cleanup.disk_cleanup(cmd, params=param or [], by=by, yes=yes,
                                        as_json=fmt is inspect_cli.ReportFormat.JSON)
        raise typer.Exit(code)
