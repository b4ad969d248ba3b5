"""``steadyops change``: record a change, list recent ones, and assess a change's risk before it.

``assess`` exits 0 for low and medium risk, 2 for high and 3 when a freeze blocks the change, so
a deploy pipeline can gate on it (``steadyops change assess … || exit``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steadyops.cli.common import call, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, fmt_time, operator_name, render_table
from steadyops.core.i18n import t

app = typer.Typer(help="Changes: record, list, assess risk. / 变更：登记、查看、风险评估。", no_args_is_help=True)

TitleOpt = Annotated[str, typer.Option("--title", "-t", help="what changes / 变更内容")]
TargetOpt = Annotated[list[str], typer.Option("--target", help="inventory target; repeatable / 变更对象")]
ServiceOpt = Annotated[str, typer.Option("--service", help="service name / 服务")]
AuthorOpt = Annotated[str, typer.Option("--by", help="who (default: login name) / 变更人")]
TicketOpt = Annotated[str, typer.Option("--ticket", help="ticket link or id / 工单")]
RollbackOpt = Annotated[str, typer.Option("--rollback-plan", help="how to undo it / 回滚方案")]
DescOpt = Annotated[str, typer.Option("--description", "-m", help="details / 变更说明")]
StartOpt = Annotated[str, typer.Option("--start", help="planned start, ISO 8601 / 计划开始时间")]
EndOpt = Annotated[str, typer.Option("--end", help="planned end, ISO 8601 / 计划结束时间")]
EXIT = {"low": 0, "medium": 0, "high": 2, "blocked": 3}


def _body(title: str, target: list[str], service: str, by: str, ticket: str, rollback_plan: str,
          description: str, start: str, end: str) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title, "targets": target, "service": service, "author": by,
                            "ticket": ticket, "rollback_plan": rollback_plan, "description": description}
    if start:
        body["planned_start"] = start
    if end:
        body["planned_end"] = end
    return {k: v for k, v in body.items() if v not in ("", [])}


def add(title: TitleOpt, target: TargetOpt = [], service: ServiceOpt = "", by: AuthorOpt = "",  # noqa: B006
        ticket: TicketOpt = "", rollback_plan: RollbackOpt = "", description: DescOpt = "", start: StartOpt = "",
        end: EndOpt = "",
        status: Annotated[str, typer.Option("--status", help="planned, approved, in_progress, succeeded … / "
                                                             "状态")] = "succeeded",
        approved_by: Annotated[str, typer.Option("--approved-by", help="approver / 审批人")] = "",
        fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Record a change. / 登记一次变更。"""
    body = _body(title, target, service, operator_name(by), ticket, rollback_plan, description, start, end)
    body["status"] = status
    if approved_by:
        body["approved_by"] = approved_by
    out = call("POST", "/api/v1/changes", json=body)
    if fmt is OutputFormat.JSON:
        echo_json(out)
        return
    typer.echo(t("change.recorded", state.lang, id=out["change"]["id"], silences=len(out["silences"])))


def list_changes(limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
                 fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Recent changes, newest first. / 最近的变更。"""
    rows = call("GET", "/api/v1/changes", params={"limit": limit})
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    if not rows:
        typer.echo(t("change.none", state.lang))
        return
    lang = state.lang
    headers = [t(k, lang) for k in ("change.col.when", "col.title", "change.col.where", "change.col.who",
                                     "col.status", "change.col.ticket")]
    typer.echo(render_table(headers, [
        [fmt_time(c["started_at"] or c["planned_start"] or c["received_at"]), c["title"],
         ", ".join(c["targets"]) or c["service"], c["author"] or "-", c["status"], c["ticket"] or "-"]
        for c in rows], max_width=40))


def assess(title: TitleOpt, target: TargetOpt = [], service: ServiceOpt = "", by: AuthorOpt = "",  # noqa: B006
           ticket: TicketOpt = "", rollback_plan: RollbackOpt = "", description: DescOpt = "",
           start: StartOpt = "", end: EndOpt = "", fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Risk of a change before making it, each factor explained. / 变更前的风险评估。"""
    body = _body(title, target, service, by.strip(), ticket, rollback_plan, description, start, end)
    result = call("POST", "/api/v1/changes/assess", json=body, params={"lang": state.lang})
    if fmt is OutputFormat.JSON:
        echo_json(result)
    else:
        lang = state.lang
        typer.echo(t("change.risk", lang, score=result["score"], level=t(f"risk.level.{result['level']}", lang)))
        if result["factors"]:
            typer.echo(render_table([t("change.col.points", lang), t("change.col.factor", lang)],
                                    [[f"+{f['points']}", f["explanation"]] for f in result["factors"]],
                                    max_width=100))
    raise typer.Exit(EXIT.get(result["level"], 0))


app.command("add")(add)
app.command("list")(list_changes)
app.command("assess")(assess)
app.command("登记", hidden=True)(add)
app.command("列表", hidden=True)(list_changes)
app.command("评估", hidden=True)(assess)
