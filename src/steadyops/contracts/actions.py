"""The Action contract: the only thing in steadyops that changes a system.

``plan`` must have no side effects (a contract test checksums the target before and after);
``apply`` receives the approvals the executor validated against the plan's hash, and refuses to run
without them. Paths an action touches are checked against the allow-list by the executor before
``apply`` and again by the action itself right before each destructive step (defence in depth).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel

from steadyops.core.inventory import Target
from steadyops.core.models import Approval, CheckStatus, Outcome, Plan, Risk


@dataclass(frozen=True)
class Symptom:
    """One failing finding as an action sees it when deciding whether it is a remedy for it."""

    check: str
    target_kind: str
    status: CheckStatus
    layer: str = ""
    #: the check is its target's liveness check (``Check.liveness``): failing, the process is dead or hung
    liveness: bool = False
    #: the finding's numbers (``read_only: 1`` tells a full disk from a failing one)
    metrics: Mapping[str, float] = field(default_factory=dict)


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
    #: (with a definite verdict: never on UNKNOWN, "could not ask" is no evidence of anything)
    remedies: ClassVar[tuple[str, ...]] = ()
    #: layers of the findings it remedies (``("disk",)`` for a clean-up); with ``remedies`` both must
    #: match, alone it matches any check of the target's kind in those layers
    remedies_layers: ClassVar[tuple[str, ...]] = ()
    #: only failures of a liveness check ("the process is dead or hung"), e.g. for a restart
    remedies_liveness: ClassVar[bool] = False
    #: undo the action when verification fails. False where undoing would make things worse:
    #: logs cleaned from a disk that is still too full must not be put back on it.
    rollback_on_failed_verify: ClassVar[bool] = True

    @classmethod
    def can_remedy(cls, symptom: Symptom) -> bool:
        """Whether this action addresses ``symptom``: declared here, so diagnosis needs no list of actions."""
        if symptom.status not in (CheckStatus.CRITICAL, CheckStatus.WARNING):
            return False
        if cls.target_kind not in ("*", symptom.target_kind) or not (cls.remedies or cls.remedies_layers):
            return False
        if cls.remedies and symptom.check not in cls.remedies:
            return False
        if cls.remedies_layers and symptom.layer not in cls.remedies_layers:
            return False
        return symptom.liveness or not cls.remedies_liveness

    @classmethod
    def suggest(cls, symptoms: Sequence[Symptom]) -> dict[str, object]:
        """Parameters a proposal can already fill in from what it remedies (the operator completes the rest)."""
        return {}

    @abstractmethod
    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        """Compute the exact steps. Read-only."""

    @abstractmethod
    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        """Carry the plan out. Only the executor calls this, after the policy is satisfied."""

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        """Undo what can be undone; the default says nothing can."""
        return Outcome(ok=False, summary="no rollback defined for this action")
