"""The Action contract: the only thing in steadyops that changes a system.

``plan`` must have no side effects (a contract test checksums the target before and after);
``apply`` receives the approvals the executor validated against the plan's hash, and refuses to run
without them. Paths an action touches are checked against the allow-list by the executor before
``apply`` and again by the action itself right before each destructive step (defence in depth).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel

from steadyops.inventory import Target
from steadyops.models import Approval, Outcome, Plan, Risk


class ActionContext(BaseModel):
    """What the executor hands an action: where it may write backups and what it may touch."""

    backup_dir: str
    allowed_paths: list[str]
    allowed_commands: list[list[str]]
    timeout: float = 300.0


class Action(ABC):
    name: ClassVar[str]
    target_kind: ClassVar[str]
    risk: ClassVar[Risk]
    Params: ClassVar[type[BaseModel]]
    #: checks re-run after apply to verify the effect
    verify_checks: ClassVar[tuple[str, ...]] = ()
    #: checks whose failure this action can remedy; diagnosis proposes it when they fail
    remedies: ClassVar[tuple[str, ...]] = ()
    #: undo the action when verification fails. False where undoing would make things worse:
    #: logs cleaned from a disk that is still too full must not be put back on it.
    rollback_on_failed_verify: ClassVar[bool] = True

    @abstractmethod
    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        """Compute the exact steps. Read-only."""

    @abstractmethod
    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        """Carry the plan out. Only the executor calls this, after the policy is satisfied."""

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        """Undo what can be undone; the default says nothing can."""
        return Outcome(ok=False, summary="no rollback defined for this action")
