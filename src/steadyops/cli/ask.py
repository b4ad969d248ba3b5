"""``steadyops ask "为什么 zk 集群告警?"``: commands first, then the agent (or the deterministic engine).

A question that parses as a command (``zk检测``, ``磁盘清理 all``) runs as that command, exactly as
``steadyops do`` would: no model is consulted for what the grammar already knows. Anything else goes
to the server's ``/api/v1/chat`` with your token (its incidents, knowledge base and model, and any
proposal is made in your name); ``--local`` investigates offline on this machine's data dir instead,
says so, and proposes nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.core.errors import ConfigError, ValidationFailed
from steadyops.core.i18n import t


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="a question or a command, zh or en / 问题或命令")],
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable answer")] = False,
        local: Annotated[bool, typer.Option("--local", help="offline: this machine's data dir, no server, "
                                                             "no proposals / 离线")] = False,
    ) -> None:
        """Ask steadyops: a known command runs; anything else is investigated. / 提问或下达命令。"""
        from steadyops.cli import do as do_cli

        try:
            do_cli.grammar().parse(question)
        except ValidationFailed:
            pass
        else:
            raise typer.Exit(do_cli.run_command(question, local=local))
        if local:
            answer = _ask_locally(question)
        else:  # one client path: the server's store, knowledge base and model, as the caller's identity
            answer = call("POST", "/api/v1/chat", json={"question": question, "lang": state.lang})
        if as_json:
            typer.echo(json.dumps(answer, ensure_ascii=False, indent=1, default=str))
            return
        typer.echo(answer["answer"])
        for e in answer["evidence"]:
            typer.echo(f"  [{e['id']}] {e['source'] or e['tool']} {json.dumps(e['arguments'], ensure_ascii=False)}")
        for p in answer["proposals"]:
            typer.echo(t("ask.proposal", state.lang, action=p["action"], target=p["target"],
                         status=p["refused"] or p["status"], run=p["run_id"] or "-"))
        for err in answer["errors"]:
            typer.echo(t("cli.error", state.lang, msg=err), err=True)


def _ask_locally(question: str) -> dict[str, Any]:
    """``--local``: investigate in this process on this machine's data dir; says so, proposes nothing."""
    from steadyops.agent.ask import Investigator
    from steadyops.app import build_app

    try:
        core = build_app(state.settings())
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(t("auth.local_mode", state.lang, data_dir=core.settings.data_dir), err=True)
    try:
        a = asyncio.run(Investigator(core, propose=False).ask(question, state.lang))
    finally:
        core.close()
    return {"answer": a.text, "mode": a.mode, "inconclusive": a.inconclusive,
            "evidence": [{"id": e.id, "tool": e.tool, "source": e.source, "arguments": e.arguments}
                         for e in a.evidence],
            "proposals": [p.__dict__ for p in a.proposals], "errors": a.errors, "details": a.details}
