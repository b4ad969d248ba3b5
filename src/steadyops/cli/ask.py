"""``steadyops ask "为什么 zk 集群告警?"``: commands first, then the agent (or the deterministic engine).

A question that parses as a command (``zk检测``, ``磁盘清理 all``) runs as that command, exactly as
``steadyops do`` would: no model is consulted for what the grammar already knows.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from steadyops.agent.commands import parse
from steadyops.cli.common import fail, state
from steadyops.errors import ConfigError, ValidationFailed
from steadyops.i18n import t


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="a question or a command, zh or en / 问题或命令")],
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable answer")] = False,
    ) -> None:
        """Ask steadyops: a known command runs; anything else is investigated. / 提问或下达命令。"""
        try:
            parse(question)
        except ValidationFailed:
            pass
        else:
            from steadyops.cli import do as do_cli

            raise typer.Exit(do_cli.run_command(question))
        from steadyops.agent.ask import Investigator
        from steadyops.app import build_app

        try:
            core = build_app(state.settings())
        except ConfigError as exc:
            fail(str(exc))
        try:
            answer = asyncio.run(Investigator(core).ask(question, state.lang))
        finally:
            core.close()
        if as_json:
            typer.echo(json.dumps({"answer": answer.text, "mode": answer.mode, "inconclusive": answer.inconclusive,
                                   "evidence": [e.__dict__ for e in answer.evidence],
                                   "proposals": [p.__dict__ for p in answer.proposals], "errors": answer.errors,
                                   "details": answer.details}, ensure_ascii=False, indent=1, default=str))
            return
        typer.echo(answer.text)
        for e in answer.evidence:
            typer.echo(f"  [{e.id}] {e.source or e.tool} {json.dumps(e.arguments, ensure_ascii=False)}")
        for p in answer.proposals:
            typer.echo(t("ask.proposal", state.lang, action=p.action, target=p.target,
                         status=p.refused or p.status, run=p.run_id or "-"))
        for err in answer.errors:
            typer.echo(t("cli.error", state.lang, msg=err), err=True)
