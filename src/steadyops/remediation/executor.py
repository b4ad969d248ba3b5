"""The executor: plan → approve → apply → verify → audit, and the only caller of ``Action.apply``.

Every transition writes an audit entry in the same transaction as the state change. Before apply
the plan is computed again and must hash to what was approved; the target is locked (a row in the
store, so two processes cannot both hold it); verification re-runs the action's checks, and a
failed verification triggers the rollback when the action defines one.

Actors are authenticated identities (the API passes the principal's name and the credential that
proved it, e.g. ``token:3f2a…``); the credential is written into every audit entry of the step.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from steadyops.config.settings import RemediationConfig
from steadyops.contracts.actions import Action, ActionContext
from steadyops.core.clock import Clock
from steadyops.core.errors import NotFound, Refused, ValidationFailed
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import (
    APPLICABLE_RUN_STATES,
    SETTLED_RUN_STATES,
    Approval,
    ApprovalDecision,
    CheckStatus,
    Outcome,
    Plan,
    RunState,
)
from steadyops.execution.errors import ShellError
from steadyops.execution.where import is_local
from steadyops.plugins import Registry
from steadyops.remediation import approval as policy
from steadyops.remediation.allowlist import AllowList
from steadyops.remediation.audit import AuditLog
from steadyops.runner.checks import CheckRunner
from steadyops.store import Store
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import ActionRunRow, ApprovalRow, TargetLockRow

log = logging.getLogger(__name__)



class Executor:
    def __init__(self, registry: Registry, inventory: Inventory, store: Store, audit: AuditLog, clock: Clock,
                 config: RemediationConfig, data_dir: Path, checks: CheckRunner | None = None) -> None:
        self.registry = registry
        self.inventory = inventory
        self.store = store
        self.audit = audit
        self.clock = clock
        self.config = config
        self.backup_dir = config.backup_dir or (data_dir / "backups")
        self.checks = checks

    # -- helpers -------------------------------------------------------------------------------
    def _target(self, name_or_address: str) -> Target:
        name = self.inventory.resolve(name_or_address) or name_or_address
        target = self.inventory.targets.get(name)
        if target is None:
            raise NotFound(f"target {name_or_address!r} is not in the inventory")
        return target

    def _context(self, action: str, target: Target) -> tuple[ActionContext, AllowList]:
        allow = AllowList.for_action(self.config, action, target.name)
        ctx = ActionContext(backup_dir=str(self.backup_dir / target.name), allowed_paths=allow.roots,
                            allowed_commands=allow.commands, timeout=self.config.action_timeout)
        return ctx, allow

    def _params(self, cls: type[Action], params: dict[str, Any]) -> BaseModel:
        try:
            return cls.Params.model_validate(params)
        except ValidationError as exc:
            raise ValidationFailed(f"invalid params for {cls.name}: {exc.errors()[0]['loc']}: "
                                   f"{exc.errors()[0]['msg']}") from exc

    async def _plan(self, cls: type[Action], target: Target, params: BaseModel) -> tuple[Plan, ActionContext]:
        if cls.target_kind not in (target.kind, "*"):
            raise Refused(f"action {cls.name} applies to {cls.target_kind} targets, not {target.kind}")
        ctx, allow = self._context(cls.name, target)
        plan = await cls().plan(target, params, ctx)
        local = is_local(target)  # the same answer the shell that applies it gets
        for path in plan.touched_paths:
            allow.check_path(path, local=local)
        for step in plan.steps:
            if step.command:
                allow.check_command(step.command)
        return plan, ctx

    # -- plan ----------------------------------------------------------------------------------
    async def propose(self, action: str, target: str, params: dict[str, Any], requested_by: str,
                      credential: str = "") -> ActionRunRow:
        cls = self.registry.actions.get(action)
        tgt = self._target(target)
        parsed = self._params(cls, params)
        now = self.clock.now()
        try:
            req = policy.requirement(self.config, cls.name, cls.risk, tgt)
            try:
                plan, _ctx = await self._plan(cls, tgt, parsed)
            except (OSError, ShellError) as exc:  # a path racing the planner: a refusal, audited, never a 500
                raise Refused(f"could not plan: {type(exc).__name__}: {exc}") from None
        except Refused as exc:
            self.audit.record(at=now, actor=requested_by, kind="refused", subject=f"{cls.name} {tgt.name}",
                              payload=_via(credential, {"reason": str(exc), "params": parsed.model_dump(mode="json")}))
            raise
        with self.store.transaction() as s:
            run = ActionRunRow(action=cls.name, target=tgt.name, params=parsed.model_dump(mode="json"),
                               plan=plan.model_dump(mode="json"), plan_hash=plan.plan_hash, risk=cls.risk.value,
                               status=(RunState.APPROVED if req.auto else RunState.PENDING).value,
                               requested_by=requested_by, required_approvals=req.required, created_at=now,
                               updated_at=now, outcome={})
            s.add(run)
            s.flush()
            self.audit.append(s, at=now, actor=requested_by, kind="planned", subject=f"run {run.id}",
                              payload=_via(credential, {"action": cls.name, "target": tgt.name,
                                                        "plan_hash": plan.plan_hash, "steps": len(plan.steps),
                                                        "policy_rule": req.rule_index,
                                                        "required_approvals": req.required}))
            return run

    # -- approve / reject ----------------------------------------------------------------------
    def decide(self, run_id: int, approver: str, decision: ApprovalDecision, reason: str,
               plan_hash: str | None = None, credential: str = "") -> ActionRunRow:
        now = self.clock.now()
        with self.store.transaction() as s:
            run = _get_run(s, run_id)
            if run.status not in APPLICABLE_RUN_STATES:
                raise Refused(f"run {run_id} is {run.status}; nothing to decide")
            tgt = self._target(run.target)
            req = policy.requirement(self.config, run.action, self.registry.actions.get(run.action).risk, tgt)
            refusal: Refused | None = None
            try:
                policy.may_approve(req, approver, run.requested_by, self.config)
            except Refused as exc:  # recorded outside this transaction, which must not commit
                refusal = exc
        if refusal is not None:
            self.audit.record(at=now, actor=approver, kind="refused", subject=f"run {run_id}",
                              payload=_via(credential, {"reason": str(refusal), "decision": decision.value}))
            raise refusal
        with self.store.transaction() as s:
            run = _get_run(s, run_id)
            seen = plan_hash or run.plan_hash
            s.add(ApprovalRow(run_id=run.id, plan_hash=seen, approver=approver, decision=decision.value,
                              reason=reason, decided_at=now,
                              expires_at=now + timedelta(seconds=self.config.approval_expiry)))
            s.flush()
            approvals = _approvals(s, run.id)
            if decision is ApprovalDecision.REJECT:
                run.status = RunState.REJECTED.value
            else:
                try:
                    policy.satisfied(req, approvals, run.plan_hash, now)
                    run.status = RunState.APPROVED.value
                except Refused:
                    run.status = RunState.PENDING.value
            run.updated_at = now
            self.audit.append(s, at=now, actor=approver, kind=decision.value, subject=f"run {run.id}",
                              payload=_via(credential, {"reason": reason, "plan_hash": seen, "status": run.status}))
            return run

    # -- apply ---------------------------------------------------------------------------------
    async def apply(self, run_id: int, actor: str, credential: str = "") -> Outcome:
        now = self.clock.now()
        with self.store.transaction() as s:
            run = _get_run(s, run_id)
            approvals = _approvals(s, run.id)
        cls = self.registry.actions.get(run.action)
        tgt = self._target(run.target)
        try:
            if run.status not in APPLICABLE_RUN_STATES:
                raise Refused(f"run {run_id} is {run.status}; it cannot be applied")
            req = policy.requirement(self.config, cls.name, cls.risk, tgt)
            plan, ctx = await self._plan(cls, tgt, self._params(cls, run.params))
            if plan.plan_hash != run.plan_hash:
                raise Refused("the plan changed since it was approved (its hash differs); plan and approve again")
            counted = policy.satisfied(req, approvals, plan.plan_hash, now)
            self._start(run.id, tgt.name, now, actor,
                        _via(credential, {"approvers": [a.approver for a in counted]}))
        except (OSError, ShellError) as exc:  # re-planning failed: a refusal, audited, never a 500
            reason = f"could not re-plan before applying: {type(exc).__name__}: {exc}"
            self.audit.record(at=now, actor=actor, kind="refused", subject=f"run {run_id}",
                              payload=_via(credential, {"reason": reason}))
            raise Refused(reason) from None
        except Refused as exc:
            self.audit.record(at=now, actor=actor, kind="refused", subject=f"run {run_id}",
                              payload=_via(credential, {"reason": str(exc)}))
            raise
        try:
            outcome = await self._run_apply(cls, plan, counted, ctx)
            if outcome.ok:
                outcome = await self._verify(cls, tgt, plan, outcome, ctx)
        finally:
            self._unlock(tgt.name, run.id)
        status = (RunState.SUCCEEDED if outcome.ok
                  else RunState.ROLLED_BACK if outcome.details.get("rolled_back") else RunState.FAILED)
        self._set(run.id, status, actor, status.value, _via(credential, outcome.model_dump(mode="json")),
                  outcome=outcome)
        if outcome.ok:  # the incident's "remedy applied" time (its timings, 1-5-10)
            with self.store.transaction() as s:
                incidents_repo.mark_remedied(s, tgt.name, self.clock.now(), f"{cls.name} (run {run.id})")
        return outcome

    async def apply_job(self, run_id: int, actor: str, credential: str = "", *, redelivered: bool = False) -> None:
        """An apply as a worker runs it from a queue, where a message may arrive more than once.

        Settled already (the last worker finished but died before acknowledging): nothing to do.
        ``running`` and redelivered: the worker that applied it died mid-apply. Which of its steps
        ran is unknown, and a half-run step on another system is not known to be safe to repeat, so
        it is never applied again: the run is settled as interrupted (audited, target unlocked, the
        action's checks re-run for the record) and a person plans anew. Otherwise: :meth:`apply`,
        whose refusals are audited there (the API waiting for this job reads them from the audit log).
        """
        with self.store.transaction() as s:
            status = _get_run(s, run_id).status
        if status in SETTLED_RUN_STATES:
            log.info("run %s is already %s; a repeated apply message changes nothing", run_id, status)
            return
        if status == RunState.RUNNING and redelivered:
            await self.settle_interrupted(run_id, actor, credential)
            return
        try:
            await self.apply(run_id, actor, credential)
        except (Refused, NotFound, ValidationFailed) as exc:  # audited by apply; a queue has nobody to tell
            log.info("apply of run %s refused: %s", run_id, exc)

    async def settle_interrupted(self, run_id: int, actor: str, credential: str = "") -> Outcome:
        """Settle a run whose applying process died: failed, interrupted, never re-applied."""
        with self.store.transaction() as s:
            run = _get_run(s, run_id)
            if run.status != RunState.RUNNING:
                return Outcome.model_validate(run.outcome) if run.outcome else Outcome(ok=False, summary=run.status)
        outcome = Outcome(ok=False, summary="interrupted: the process applying this plan stopped mid-apply; it was "
                          "not applied again. Check the target, then plan and approve anew",
                          details={"interrupted": True})
        cls = self.registry.actions.get(run.action)
        tgt = self._target(run.target)
        if cls.verify_checks and self.checks is not None:  # the state it left, for whoever decides next
            jobs = [j for j in self.checks.jobs(targets=[tgt.name]) if j.check.name in cls.verify_checks]
            _id, findings = await self.checks.inspect(jobs, trigger=f"interrupted:{cls.name}")
            outcome.details["verification"] = [f.model_dump(mode="json") for f in findings]
        self._unlock(tgt.name, run.id)
        self._set(run.id, RunState.FAILED, actor, "apply_interrupted",
                  _via(credential, outcome.model_dump(mode="json")), outcome=outcome)
        return outcome

    async def _run_apply(self, cls: type[Action], plan: Plan, approvals: list[Approval],
                         ctx: ActionContext) -> Outcome:
        try:
            return await asyncio.wait_for(cls().apply(plan, approvals, ctx), timeout=ctx.timeout)
        except TimeoutError:
            return Outcome(ok=False, summary=f"timed out after {ctx.timeout:g}s")
        except Refused as exc:
            return Outcome(ok=False, summary=f"refused during apply: {exc}")
        except Exception as exc:
            log.exception("action %s failed", cls.name)
            return Outcome(ok=False, summary=f"{type(exc).__name__}: {exc}")

    async def _verify(self, cls: type[Action], target: Target, plan: Plan, outcome: Outcome,
                      ctx: ActionContext) -> Outcome:
        if not cls.verify_checks or self.checks is None:
            return outcome
        jobs = [j for j in self.checks.jobs(targets=[target.name]) if j.check.name in cls.verify_checks]
        _run_id, findings = await self.checks.inspect(jobs, trigger=f"verify:{cls.name}")
        bad = [f for f in findings if f.status in (CheckStatus.CRITICAL, CheckStatus.UNKNOWN)]
        details = dict(outcome.details, verification=[f.model_dump(mode="json") for f in findings])
        if not bad:
            return outcome.model_copy(update={"details": details})
        if cls.rollback_on_failed_verify:
            back = await cls().rollback(plan, outcome, ctx)
            details["rollback"] = back.model_dump(mode="json")
            details["rolled_back"] = back.ok
        return outcome.model_copy(update={"ok": False, "details": details,
                                          "summary": f"verification failed: {bad[0].check}: {bad[0].summary}"})

    # -- locks and state -----------------------------------------------------------------------
    def _start(self, run_id: int, target: str, now: datetime, actor: str, payload: dict[str, Any]) -> None:
        """Lock the target, move the run to ``running`` and audit ``apply_started``, in one transaction.

        The move is a compare-and-set (``WHERE status IN (approved, pending)``): of two processes
        handed the same apply (a queue delivers at least once) exactly one starts it. A lock left by
        this same run is taken back: the run was never started (it is still approved), so whoever
        took that lock died before applying anything."""
        try:
            with self.store.transaction() as s:
                moved = s.execute(update(ActionRunRow).where(ActionRunRow.id == run_id,
                                                             ActionRunRow.status.in_(sorted(APPLICABLE_RUN_STATES)))
                                  .values(status=RunState.RUNNING.value, updated_at=now))
                if getattr(moved, "rowcount", 0) != 1:
                    raise Refused(f"run {run_id} is already being applied")
                held = s.get(TargetLockRow, target)
                if held is not None and held.expires_at > now and held.run_id != run_id:
                    raise Refused(f"target {target} is locked by run {held.run_id} until {held.expires_at.isoformat()}")
                if held is not None:
                    s.delete(held)
                    s.flush()
                s.add(TargetLockRow(target=target, run_id=run_id, acquired_at=now,
                                    expires_at=now + timedelta(seconds=self.config.lock_ttl)))
                self.audit.append(s, at=now, actor=actor, kind="apply_started", subject=f"run {run_id}",
                                  payload=payload)
        except IntegrityError as exc:
            raise Refused(f"target {target} is locked by another run") from exc

    def _unlock(self, target: str, run_id: int) -> None:
        with self.store.transaction() as s:
            held = s.get(TargetLockRow, target)
            if held is not None and held.run_id == run_id:
                s.delete(held)

    def _set(self, run_id: int, status: RunState, actor: str, kind: str, payload: dict[str, Any],
             outcome: Outcome | None = None) -> None:
        now = self.clock.now()
        with self.store.transaction() as s:
            run = _get_run(s, run_id)
            run.status = status.value
            run.updated_at = now
            if outcome is not None:
                run.outcome = outcome.model_dump(mode="json")
            self.audit.append(s, at=now, actor=actor, kind=kind, subject=f"run {run_id}", payload=payload)


def _via(credential: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the credential that authenticated the actor (absent for internal actors)."""
    return {**payload, "credential": credential} if credential else payload


def _get_run(session: Any, run_id: int) -> ActionRunRow:
    run: ActionRunRow | None = session.get(ActionRunRow, run_id)
    if run is None:
        raise NotFound(f"action run {run_id} does not exist")
    return run


def _approvals(session: Any, run_id: int) -> list[Approval]:
    rows = session.scalars(select(ApprovalRow).where(ApprovalRow.run_id == run_id).order_by(ApprovalRow.id))
    return [Approval(plan_hash=r.plan_hash, approver=r.approver, decision=ApprovalDecision(r.decision),
                     reason=r.reason, decided_at=r.decided_at, expires_at=r.expires_at) for r in rows]

