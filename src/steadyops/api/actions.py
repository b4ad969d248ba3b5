"""Remediation over HTTP: propose (plan), decide (approve/reject), apply, inspect, and audit verify.

The API exposes exactly the executor's steps, so the safety model has one implementation: a
client cannot skip the plan, the policy or the audit by talking HTTP instead of the CLI.

Who proposes, approves and applies is the authenticated principal, never a name in the body: four
eyes means two distinct people (service accounts never approve), neither of them the requester,
and each audit entry names the actor and the credential (``token:<key>``) that proved it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from steadyops.api.deps import get_app
from steadyops.api.params import RunId
from steadyops.app import App
from steadyops.auth import Approver, Principal, Responder, Viewer
from steadyops.core.errors import Forbidden, NotFound
from steadyops.core.models import ApprovalDecision, Outcome
from steadyops.store.tables import ActionRunRow, ApprovalRow

router = APIRouter(prefix="/api/v1/actions", tags=["actions"])


class ProposeIn(BaseModel):
    action: str = Field(examples=["host.clean_logs"])
    target: str = Field(description="target name or address from the inventory")
    params: dict[str, Any] = Field(default_factory=dict)


class DecisionIn(BaseModel):
    reason: str = ""
    plan_hash: str | None = Field(default=None, description="the plan hash the approver reviewed")


class ApplyIn(BaseModel):
    """Nothing to say: the actor is the caller. Kept so clients may send ``{}``."""


class ApprovalOut(BaseModel):
    approver: str
    decision: str
    reason: str
    plan_hash: str
    decided_at: datetime
    expires_at: datetime


class RunOut(BaseModel):
    id: int
    action: str
    target: str
    status: str
    risk: str
    requested_by: str
    required_approvals: int
    plan_hash: str
    plan: dict[str, Any]
    params: dict[str, Any]
    outcome: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    approvals: list[ApprovalOut] = Field(default_factory=list)


class CatalogEntry(BaseModel):
    name: str
    target_kind: str
    risk: str
    description: str
    params_schema: dict[str, Any]


class AuditVerdictOut(BaseModel):
    ok: bool
    entries: int
    head: str
    problems: list[dict[str, Any]]
    #: the newest sequence number anchored outside the database
    anchored_seq: int | None = None


def _out(app: App, run: ActionRunRow) -> RunOut:
    with app.store.transaction() as s:
        approvals = s.scalars(select(ApprovalRow).where(ApprovalRow.run_id == run.id).order_by(ApprovalRow.id))
        return RunOut(id=run.id, action=run.action, target=run.target, status=run.status, risk=run.risk,
                      requested_by=run.requested_by, required_approvals=run.required_approvals,
                      plan_hash=run.plan_hash, plan=run.plan, params=run.params, outcome=run.outcome,
                      created_at=run.created_at, updated_at=run.updated_at,
                      approvals=[ApprovalOut(approver=a.approver, decision=a.decision, reason=a.reason,
                                             plan_hash=a.plan_hash, decided_at=a.decided_at,
                                             expires_at=a.expires_at) for a in approvals])


def _person(me: Principal) -> None:
    """Four eyes are people's eyes: a service account's approval would let one person approve twice."""
    if not me.is_person:
        raise Forbidden(f"{me.name} is a service account; only people approve or reject plans")


def _get(app: App, run_id: int) -> ActionRunRow:
    with app.store.transaction() as s:
        run = s.get(ActionRunRow, run_id)
        if run is None:
            raise NotFound(f"action run {run_id} does not exist")
        return run


@router.get("/catalog", response_model=list[CatalogEntry], summary="Actions that can be proposed")
def catalog(me: Viewer, app: Annotated[App, Depends(get_app)]) -> list[CatalogEntry]:
    out = []
    for name in app.registry.actions.names():
        cls = app.registry.actions.get(name)
        out.append(CatalogEntry(name=name, target_kind=cls.target_kind, risk=cls.risk.value,
                                description=(cls.__doc__ or "").strip(), params_schema=cls.Params.model_json_schema()))
    return out


@router.post("", response_model=RunOut, status_code=201, summary="Plan an action (dry run; changes nothing)")
async def propose(body: ProposeIn, me: Responder, app: Annotated[App, Depends(get_app)]) -> RunOut:
    run = await app.executor.propose(body.action, body.target, body.params, me.name, me.credential)
    return _out(app, run)


@router.get("", response_model=list[RunOut], summary="Recent action runs")
def list_runs(me: Viewer, app: Annotated[App, Depends(get_app)], status: str | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[RunOut]:
    with app.store.transaction() as s:
        stmt = select(ActionRunRow).order_by(ActionRunRow.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(ActionRunRow.status == status)
        runs = list(s.scalars(stmt))
    return [_out(app, r) for r in runs]


@router.get("/{run_id}", response_model=RunOut)
def show(run_id: RunId, me: Viewer, app: Annotated[App, Depends(get_app)]) -> RunOut:
    return _out(app, _get(app, run_id))


@router.post("/{run_id}/approve", response_model=RunOut)
def approve(run_id: RunId, body: DecisionIn, me: Approver, app: Annotated[App, Depends(get_app)]) -> RunOut:
    _person(me)
    return _out(app, app.executor.decide(run_id, me.name, ApprovalDecision.APPROVE, body.reason, body.plan_hash,
                                         me.credential))


@router.post("/{run_id}/reject", response_model=RunOut)
def reject(run_id: RunId, body: DecisionIn, me: Approver, app: Annotated[App, Depends(get_app)]) -> RunOut:
    _person(me)
    return _out(app, app.executor.decide(run_id, me.name, ApprovalDecision.REJECT, body.reason, body.plan_hash,
                                         me.credential))


@router.post("/{run_id}/apply", response_model=Outcome, summary="Apply an approved plan, then verify")
async def apply(run_id: RunId, me: Responder, app: Annotated[App, Depends(get_app)],
                body: ApplyIn | None = None) -> Outcome:
    if app.jobs is not None:  # embedded: here; distributed: on a worker, waited for
        return await app.jobs.apply(run_id, me.name, me.credential)
    return await app.executor.apply(run_id, me.name, me.credential)


audit_router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@audit_router.get("/verify", response_model=AuditVerdictOut, summary="Verify the audit log's chain and signatures")
def verify(me: Viewer, app: Annotated[App, Depends(get_app)]) -> AuditVerdictOut:
    v = app.audit.verify()
    return AuditVerdictOut(ok=v.ok, entries=v.entries, head=v.head, anchored_seq=v.anchored_seq,
                           problems=[{"seq": p.seq, "what": p.what} for p in v.problems])
