"""``steadyops act``: plan, approve, reject, apply and follow remediations (through the API).

The plan is always shown before anything else; applying needs the approvals the policy asks for,
and an auto-approved plan still asks for a typed confirmation unless ``--yes`` is given.
Who plans, approves and applies is the identity of the token (``--token``), never a typed name.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, render_table
from steadyops.core.i18n import t
from steadyops.remediation import params

app = typer.Typer(help="Plan, approve and apply remediations. / 处置动作：计划、审批、执行。", no_args_is_help=True)



def parse_params(values: list[str] | None) -> dict[str, Any]:
    """``key=value`` pairs (see :mod:`steadyops.remediation.params`); a bad one ends the command."""
    try:
        return params.parse_params(values or [])
    except params.BadParam as exc:
        fail(t("act.bad_param", state.lang, item=exc.item))


def render_plan(run: dict[str, Any]) -> str:
    lang = state.lang
    plan = run["plan"]
    lines = [t("act.plan_header", lang, id=run["id"], action=run["action"], target=run["target"],
               risk=t(f"act.risk.{run['risk']}", lang)),
             t("act.effect", lang, effect=plan["expected_effect"]),
             t("act.plan_hash", lang, hash=run["plan_hash"][:16])]
    rows = [[str(i + 1), s["kind"], s["description"]] for i, s in enumerate(plan["steps"])]
    if rows:
        lines.append(render_table([t("act.col.n", lang), t("act.col.kind", lang), t("act.col.step", lang)], rows,
                                  max_width=100))
    for note in plan.get("notes", []):
        lines.append(f"- {note}")
    if plan.get("rollback"):
        lines.append(t("act.rollback", lang) + " " + "; ".join(s["description"] for s in plan["rollback"]))
    return "\n".join(lines)


def _status_line(run: dict[str, Any]) -> str:
    lang = state.lang
    # distinct approvers of *this* plan, as the policy counts them: alice twice is one approval
    approvers = {a["approver"] for a in run.get("approvals", [])
                 if a["decision"] == "approve" and a.get("plan_hash", run["plan_hash"]) == run["plan_hash"]}
    got = min(len(approvers), run["required_approvals"]) if run["required_approvals"] else len(approvers)
    return t("act.status", lang, id=run["id"], status=t(f"act.state.{run['status']}", lang), got=got,
             need=run["required_approvals"])


def render_outcome(outcome: dict[str, Any]) -> str:
    lang = state.lang
    if not outcome["ok"]:
        return t("act.failed", lang, summary=outcome["summary"])
    freed = outcome.get("bytes_freed") or 0
    # the action's own summary usually says what it freed already; say it once
    if not freed or str(freed) in outcome["summary"]:
        return t("act.done_plain", lang, summary=outcome["summary"])
    return t("act.done", lang, summary=outcome["summary"], freed=freed)


@app.command("plan")
def plan_cmd(
    action: Annotated[str, typer.Argument(help="e.g. host.clean_logs, zookeeper.purge")],
    target: Annotated[str, typer.Option("--target", "-t", help="target name or address / 目标")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value (JSON values allowed)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="apply an auto-approved plan without asking")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Dry-run an action and show its plan; apply at once only if the policy allows and you confirm."""
    run = call("POST", "/api/v1/actions", json={"action": action, "target": target, "params": parse_params(param)})
    if fmt is OutputFormat.JSON:
        echo_json(run)
        return
    typer.echo(render_plan(run))
    typer.echo(_status_line(run))
    if run["status"] != "approved" or not run["plan"]["steps"]:
        return
    if not yes:
        if not sys.stdin.isatty():
            typer.echo(t("act.confirm_hint", state.lang, id=run["id"]))
            return
        if not typer.confirm(t("act.confirm", state.lang), default=False):
            return
    typer.echo(render_outcome(call("POST", f"/api/v1/actions/{run['id']}/apply", json={})))


def _decide(run_id: int, verb: str, reason: str) -> None:
    run = call("GET", f"/api/v1/actions/{run_id}")
    typer.echo(render_plan(run))
    run = call("POST", f"/api/v1/actions/{run_id}/{verb}",
               json={"reason": reason, "plan_hash": run["plan_hash"]})
    typer.echo(_status_line(run))


@app.command("approve")
def approve_cmd(run_id: int,
                reason: Annotated[str, typer.Option("--reason", "-r", help="why / 理由")] = "") -> None:
    """Approve the plan you are shown (the approval binds to its hash). / 审批通过。"""
    _decide(run_id, "approve", reason)


@app.command("reject")
def reject_cmd(run_id: int,
               reason: Annotated[str, typer.Option("--reason", "-r", help="why / 理由")] = "") -> None:
    """Reject the plan. / 驳回。"""
    _decide(run_id, "reject", reason)


@app.command("apply")
def apply_cmd(run_id: int) -> None:
    """Apply an approved plan; it is re-planned first and must match what was approved. / 执行。"""
    typer.echo(render_outcome(call("POST", f"/api/v1/actions/{run_id}/apply", json={})))


@app.command("status")
def status_cmd(run_id: Annotated[int | None, typer.Argument()] = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """One run in detail, or the recent runs. / 查看处置状态。"""
    if run_id is not None:
        run = call("GET", f"/api/v1/actions/{run_id}")
        if fmt is OutputFormat.JSON:
            echo_json(run)
            return
        typer.echo(render_plan(run))
        typer.echo(_status_line(run))
        if run["outcome"]:
            typer.echo(render_outcome(run["outcome"]))
        return
    runs = call("GET", "/api/v1/actions")
    if fmt is OutputFormat.JSON:
        echo_json(runs)
        return
    lang = state.lang
    typer.echo(render_table([t("col.id", lang), t("act.col.action", lang), t("act.col.target", lang),
                             t("col.status", lang), t("act.col.by", lang)],
                            [[str(r["id"]), r["action"], r["target"], t(f"act.state.{r['status']}", lang),
                              r["requested_by"]] for r in runs]))
