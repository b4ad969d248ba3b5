"""``steadyops incidents``: list, show, acknowledge and resolve incidents from a terminal.

The timeline, MTTA and the postmortem hinge on who acted, so the actor is the identity of the
token the command runs with (``--token``), never a name typed on the command line.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steadyops.cli.alerts import alert_table
from steadyops.cli.common import call, state
from steadyops.cli.output import (
    FormatOption,
    OutputFormat,
    echo_json,
    fmt_seconds,
    fmt_time,
    parse_choice,
    render_fields,
    render_table,
    translated,
)
from steadyops.core.i18n import t
from steadyops.pipeline.diagnose import summarise

app = typer.Typer(help="Incidents: list, show, acknowledge, resolve. / 事件：查看、认领、解决。",
                  epilog="中文别名 / Chinese aliases: steadyops 事件 列表 | 详情 (查看) ID | 认领 ID | 解决 ID",
                  no_args_is_help=True)

STATUSES = ("open", "acknowledged", "resolved")

IdArg = Annotated[int, typer.Argument(help="incident id / 事件编号", min=1)]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="why / 备注")]


def list_incidents(
    status: Annotated[str, typer.Option("--status", help="open, acknowledged, resolved / 状态")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List incidents, newest first. / 查看事件列表。"""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = parse_choice(status, STATUSES, "incident.status")
    rows = call("GET", "/api/v1/incidents", params=params)
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    if not rows:
        typer.echo(t("cli.no_incidents", state.lang))
        return
    lang = state.lang
    headers = [t(k, lang) for k in ("col.id", "col.status", "col.severity", "col.title", "col.alerts",
                                     "col.opened")]
    typer.echo(render_table(headers, [
        [str(r["id"]), translated("incident.status", r["status"]), translated("severity", r["severity"]),
         r["title"], f"{r['firing_count']}/{r['alert_count']}", fmt_time(r["opened_at"])]
        for r in rows
    ]))


def show_incident(incident_id: IdArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """One incident with its alerts and timeline. / 查看事件详情。"""
    inc = call("GET", f"/api/v1/incidents/{incident_id}")
    if fmt is OutputFormat.JSON:
        echo_json(inc)
        return
    typer.echo(describe(inc))


def describe(inc: dict[str, Any]) -> str:
    lang = state.lang
    fields: list[tuple[str, str]] = [
        (t("col.status", lang), translated("incident.status", inc["status"])),
        (t("col.severity", lang), translated("severity", inc["severity"])),
        (t("incident.targets", lang), ", ".join(inc["targets"]) or "-"),
        (t("incident.first_alert", lang), fmt_time(inc["first_alert_at"])),
        (t("col.opened", lang), fmt_time(inc["opened_at"])),
    ]
    if inc.get("acknowledged_by"):
        fields.append((t("incident.acknowledged_by", lang),
                       f"{inc['acknowledged_by']} ({fmt_time(inc['acknowledged_at'])})"))
    if inc.get("resolved_by"):
        fields.append((t("incident.resolved_by", lang), f"{inc['resolved_by']} ({fmt_time(inc['resolved_at'])})"))
    if inc.get("last_ok_at"):
        fields.append((t("incident.last_ok", lang), fmt_time(inc["last_ok_at"])))
    if inc.get("located_at"):
        fields.append((t("incident.located", lang), fmt_time(inc["located_at"])))
    if inc.get("remedied_at"):
        fields.append((t("incident.remedied", lang), fmt_time(inc["remedied_at"])))
    goals = inc.get("goals") or {}
    fields += [
        (t("incident.mttd", lang), _span(inc["mttd_seconds"], goals.get("detect"))),
        (t("incident.mttl", lang), _span(inc.get("mttl_seconds"), goals.get("locate"))),
        (t("incident.mtta", lang), fmt_seconds(inc["mtta_seconds"])),
        (t("incident.mttr", lang), _span(inc["mttr_seconds"], goals.get("recover"))),
    ]
    parts = [f"#{inc['id']} {inc['title']}", render_fields(fields)]
    alerts = inc.get("alerts") or []
    parts.append(f"\n{t('incident.alerts', lang, count=len(alerts))}")
    if alerts:
        parts.append(alert_table([{**a, "incident_id": inc["id"]} for a in alerts]))
    timeline = inc.get("timeline") or []
    if timeline:
        parts.append(f"\n{t('incident.timeline', lang)}")
        headers = [t(k, lang) for k in ("col.time", "col.event", "col.actor", "col.detail")]
        parts.append(render_table(headers, [
            [fmt_time(e["at"]), translated("incident.event", e["kind"]),
             t("incident.actor.system", lang) if e["actor"] == "system" else e["actor"], e["detail"]]
            for e in timeline
        ]))
    for d in inc.get("diagnoses") or []:
        parts.append(render_diagnosis(d))
    return "\n".join(parts)


def _span(value: float | None, goal: dict[str, Any] | None) -> str:
    """``4.2s (goal ≤ 1m: met)``: seconds to a tenth below a minute, so a fast detection is not "0s"."""
    if value is None:
        return "-"
    text = f"{value:.1f}s" if value < 60 else fmt_seconds(value)
    if goal and goal.get("met") is not None:
        verdict = t("incident.goal.met" if goal["met"] else "incident.goal.missed", state.lang)
        text += f" ({t('incident.goal', state.lang, goal=fmt_seconds(goal['goal']), verdict=verdict)})"
    return text


def render_diagnosis(d: dict[str, Any]) -> str:
    """Both diagnoses when present: the deterministic ranking always, the LLM explanation beside it."""
    lang = state.lang
    summary = d["summary"]
    if d["mode"] == "deterministic":  # re-rendered from its fields, so --lang applies to stored diagnoses too
        layers = sorted({e.get("layer", "") for e in d.get("evidence", [])
                         if d.get("candidates") and e.get("target") == d["candidates"][0]["target"] and e.get("layer")})
        summary = summarise(d.get("candidates", []), d["inconclusive"], layers, lang)
    lines = [f"\n{t('diag.header.' + d['mode'], lang)} — {summary} "
             f"({t('diag.confidence', lang)} {d['confidence']:.2f})"]
    for c in d.get("candidates", [])[:5]:
        lines.append(f"  {c.get('target', '?')}: {c.get('score', 0):.2f}")
    for r in d.get("runbooks", [])[:3]:
        lines.append(f"  {t('diag.runbook', lang)} {r.get('citation', r.get('source', ''))} — {r.get('heading', '')}")
    for a in d.get("actions", []):
        lines.append(f"  {t('diag.proposed', lang)} {a['action']} → {a['target']} ({', '.join(a.get('because', []))})")
    return "\n".join(lines)


def ack_incident(incident_id: IdArg, comment: CommentOption = "") -> None:
    """Acknowledge: you are on it. / 认领事件。"""
    inc = call("POST", f"/api/v1/incidents/{incident_id}/ack", json={"comment": comment})
    typer.echo(t("cli.acked", state.lang, id=incident_id, who=inc["acknowledged_by"]))


def resolve_incident(incident_id: IdArg, comment: CommentOption = "") -> None:
    """Resolve by hand. / 解决事件。"""
    inc = call("POST", f"/api/v1/incidents/{incident_id}/resolve", json={"comment": comment})
    typer.echo(t("cli.resolved", state.lang, id=incident_id, who=inc["resolved_by"]))


app.command("list")(list_incidents)
app.command("show")(show_incident)
app.command("ack")(ack_incident)
app.command("resolve")(resolve_incident)
# Chinese aliases, hidden from --help so it stays one list of commands.
app.command("列表", hidden=True)(list_incidents)
app.command("查看", hidden=True)(show_incident)
app.command("详情", hidden=True)(show_incident)
app.command("认领", hidden=True)(ack_incident)
app.command("解决", hidden=True)(resolve_incident)
