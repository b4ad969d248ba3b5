"""Remediation in the console: plan a proposed action, review the plan, approve or reject it with a
reason, apply it, see the verification — and the approvals queue and the audit log.

Every step calls the executor exactly as the API does, with the signed-in identity and the
credential that proved it: the console adds no path around the policy, the plan hash or the audit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from steadyops.auth import Principal
from steadyops.core.errors import NotFound
from steadyops.core.models import APPLICABLE_RUN_STATES, ApprovalDecision, RunState
from steadyops.remediation.params import parse_params
from steadyops.store.tables import ActionRunRow, ApprovalRow, AuditRow
from steadyops.web.render import render
from steadyops.web.session import app_of, approver, checked_form, lang_of, responder, viewer

router = APIRouter(include_in_schema=False)

AWAITING = sorted(APPLICABLE_RUN_STATES)
AUDIT_PAGE = 200


def _run(request: Request, run_id: int) -> tuple[ActionRunRow, list[ApprovalRow]]:
    app = app_of(request)
    with app.store.transaction() as s:
        run = s.get(ActionRunRow, run_id)
        if run is None:
            raise NotFound(f"action run {run_id} does not exist")
        approvals = list(s.scalars(select(ApprovalRow).where(ApprovalRow.run_id == run_id).order_by(ApprovalRow.id)))
        s.expunge_all()
        return run, approvals


@router.post("/actions/plan", dependencies=[Depends(checked_form)])
async def plan_action(request: Request, me: Annotated[Principal, Depends(responder)],
                      action: Annotated[str, Form(max_length=200)], target: Annotated[str, Form(max_length=256)],
                      incident: Annotated[int | None, Form()] = None,
                      params: Annotated[str, Form(max_length=10_000)] = "") -> RedirectResponse:
    app = app_of(request)
    typed = parse_params(line for line in params.splitlines() if line.strip())
    run = await app.executor.propose(action, target, typed, me.name, credential=me.credential)
    suffix = f"?incident={incident}" if incident else ""
    return RedirectResponse(f"/actions/{run.id}{suffix}", status_code=303)


@router.get("/actions/{run_id:int}", response_class=HTMLResponse)
def run_page(request: Request, run_id: int, me: Annotated[Principal, Depends(viewer)],
             incident: int | None = None) -> HTMLResponse:
    run, approvals = _run(request, run_id)
    approved_by = {a.approver for a in approvals if a.decision == ApprovalDecision.APPROVE.value}
    return render(request, "action.html.j2", lang=lang_of(request), run=run, approvals=approvals,
                  approved_count=len(approved_by), incident=incident,
                  can_decide=me.role.value in ("approver", "admin") and me.name != run.requested_by
                  and run.status == RunState.PENDING and me.name not in approved_by,
                  can_apply=me.role.value in ("responder", "approver", "admin") and run.status == "approved")


@router.post("/actions/{run_id:int}/decide", dependencies=[Depends(checked_form)])
def decide(request: Request, run_id: int, me: Annotated[Principal, Depends(approver)],
           decision: Annotated[ApprovalDecision, Form()], plan_hash: Annotated[str, Form(max_length=128)],
           reason: Annotated[str, Form(max_length=2000)] = "") -> RedirectResponse:
    app = app_of(request)
    app.executor.decide(run_id, me.name, decision, reason, plan_hash, credential=me.credential)
    return RedirectResponse(f"/actions/{run_id}", status_code=303)


@router.post("/actions/{run_id:int}/apply", dependencies=[Depends(checked_form)])
async def apply(request: Request, run_id: int, me: Annotated[Principal, Depends(responder)]) -> RedirectResponse:
    app = app_of(request)
    await app.executor.apply(run_id, me.name, credential=me.credential)
    return RedirectResponse(f"/actions/{run_id}", status_code=303)


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    with app.store.transaction() as s:
        waiting = list(s.scalars(select(ActionRunRow).where(ActionRunRow.status.in_(AWAITING))
                                 .order_by(ActionRunRow.id.desc()).limit(200)))
        recent = list(s.scalars(select(ActionRunRow).order_by(ActionRunRow.id.desc()).limit(50)))
        s.expunge_all()
    return render(request, "approvals.html.j2", lang=lang_of(request), waiting=waiting, recent=recent,
                  catalog=app.registry.actions.names(), targets=sorted(app.inventory.targets))


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, me: Annotated[Principal, Depends(viewer)], verify: bool = False) -> HTMLResponse:
    app = app_of(request)
    with app.store.transaction() as s:
        rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(AUDIT_PAGE)))
        s.expunge_all()
    verdict = app.audit.verify() if verify else None
    return render(request, "audit.html.j2", lang=lang_of(request), rows=rows, verdict=verdict)
