"""The command grammar over chat: ``POST /api/v1/chat {"question": "zk检测"}`` does what ``ask "zk检测"`` does.

:mod:`steadyops.agent.commands` is the one grammar; the CLI runs a parsed command in-process
(``steadyops do``), and this module runs the same intent on the server for chat clients, so a
phrase never means one thing in a terminal and another in a chat robot. Nothing here applies a
change: ``磁盘清理`` proposes plans, which wait for the approval policy like any other request.
"""

from __future__ import annotations

from steadyops.agent.ask import AGENT_ACTOR, Answer, Proposal
from steadyops.agent.commands import Command
from steadyops.agent.context import AgentApp
from steadyops.auth import Principal
from steadyops.auth.roles import Role, allows
from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import Lang, t
from steadyops.store import incidents as incidents_repo

#: the role each intent needs, as its HTTP route does: running checks and proposing plans are a
#: responder's (POST /api/v1/inspections, POST /api/v1/actions), reading incidents a viewer's; a
#: plugin's command runs checks, so it is a responder's too
NEEDS: dict[str, Role] = {"inspect": Role.RESPONDER, "disk_cleanup": Role.RESPONDER, "incidents": Role.VIEWER}


async def answer_command(app: AgentApp, cmd: Command, lang: Lang, principal: Principal | None = None) -> Answer:
    """Run a parsed command for a chat client and answer in ``lang`` (``principal``: who asks; None in-process)."""
    need = NEEDS.get(cmd.intent, Role.RESPONDER)
    if principal is not None and not allows(principal.role, need):
        return Answer(text=t("chat.command_forbidden", lang, command=cmd.text, role=need.value), mode="command",
                      inconclusive=True, details={"command": cmd.intent, "refused": True})
    if cmd.intent == "inspect":
        return await _inspect(app, cmd, lang)
    if cmd.intent == "incidents":
        return _incidents(app, lang)
    if cmd.intent == "disk_cleanup":
        return await _cleanup(app, cmd, lang, principal)
    return await _plugin_command(app, cmd, lang)


async def _plugin_command(app: AgentApp, cmd: Command, lang: Lang) -> Answer:
    """A registered ``do`` command: its own answer when it has one, else the inspection of its kind."""
    command = app.registry.commands.get(cmd.intent)
    if command.answer is None:
        answer = await _inspect(app, cmd, lang)
        answer.details["command"] = command.name
        return answer
    target = cmd.target if cmd.target and cmd.target != "all" else None
    return Answer(text=await command.answer(app.checks, target, lang), mode="command",
                  details={"command": command.name, "target": target})


async def _inspect(app: AgentApp, cmd: Command, lang: Lang) -> Answer:
    from steadyops.reports import ScopeError, load_report, render, resolve_scope

    targets = [cmd.target] if cmd.target else []
    try:
        scope, jobs = resolve_scope(app.checks, kinds=[cmd.kind] if cmd.kind else [], targets=targets)
    except ScopeError as exc:
        return Answer(text=t("inspect.nothing", lang, why=exc.localised(lang)), mode="command",
                      inconclusive=True, details={"command": "inspect"})
    run_id, _findings = await app.checks.inspect(jobs, trigger="chat", scope=scope.as_dict())
    report = load_report(app.store, run_id, inventory=app.inventory, sections=app.registry.sections())
    return Answer(text=render(report, "md", lang), mode="command",
                  details={"command": "inspect", "run_id": run_id, "status": report.status.value})


def _incidents(app: AgentApp, lang: Lang) -> Answer:
    lines = []
    with app.store.transaction() as s:
        for row in incidents_repo.list_rows(s, limit=50):
            if row.status != "resolved":
                lines.append(f"- #{row.id} [{t(f'severity.{row.severity}', lang)}] "
                             f"{t(f'incident.status.{row.status}', lang)} {row.title}")
    return Answer(text="\n".join(lines) or t("cli.no_incidents", lang), mode="command",
                  details={"command": "incidents"})


async def _cleanup(app: AgentApp, cmd: Command, lang: Lang, principal: Principal | None) -> Answer:
    from steadyops.reports.scope import match_targets

    inventory = app.inventory
    if cmd.target in (None, "all"):
        chosen = [tg for tg in inventory.targets.values() if tg.kind in app.registry.cleanups]
    else:
        chosen = [inventory.targets[n] for n in match_targets(inventory, cmd.target or "")]
    chosen = [tg for tg in chosen if not cmd.kind or tg.kind == cmd.kind]
    proposals: list[Proposal] = []
    lines = []
    for target in chosen:
        cleanup = app.registry.cleanup_for(target.kind)
        if cleanup is None or cleanup.action not in app.registry.actions:
            continue
        action, params = cleanup.action, cleanup.params(target)
        p = Proposal(action=action, target=target.name, reason=cmd.text)
        try:
            run = await app.executor.propose(action, target.name, params,
                                             principal.name if principal else AGENT_ACTOR,
                                             f"{principal.credential} via chat" if principal else "")
        except SteadyOpsError as exc:
            p.refused = str(exc)
            lines.append(f"- {target.name} {action}: {t('do.result.failed', lang)} — {exc}")
        else:
            p.run_id, p.status = run.id, run.status
            lines.append(f"- {target.name} {action}: #{run.id} {t(f'act.state.{run.status}', lang)}")
        proposals.append(p)
    if not proposals:
        lines.append(t("do.cleanup_no_match", lang, target=cmd.target or "all"))
    return Answer(text="\n".join(lines), mode="command", proposals=proposals,
                  details={"command": "disk_cleanup"})
