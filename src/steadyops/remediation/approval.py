"""The approval policy: auto, one approver or two (four eyes), bound to the plan's hash.

Default deny: an action no rule mentions cannot run at all. An approval names the exact plan
hash it saw, so a plan that changed between approval and apply (a new file appeared, a param was
edited) needs a fresh approval; and approvals expire, so a "yes" from yesterday cannot be replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from steadyops.config.settings import PolicyRule, RemediationConfig
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Approval, ApprovalDecision, Risk


@dataclass(frozen=True)
class Requirement:
    rule_index: int
    required: int
    approvers: tuple[str, ...]

    @property
    def auto(self) -> bool:
        return self.required == 0


def _any(patterns: Sequence[str], value: str) -> bool:
    return any(fnmatchcase(value, p) for p in patterns)


def _matches(rule: PolicyRule, action: str, risk: Risk, target: Target) -> bool:
    return (
        _any(rule.actions, action)
        and risk in rule.risks
        and _any(rule.targets, target.name)
        and all(fnmatchcase(target.labels.get(k, ""), v) for k, v in rule.target_labels.items())
    )


def requirement(config: RemediationConfig, action: str, risk: Risk, target: Target) -> Requirement:
    for i, rule in enumerate(config.policies):
        if _matches(rule, action, risk, target):
            return Requirement(i, rule.required, tuple(rule.approvers))
    raise Refused(f"no approval policy covers action {action!r} (risk {risk.value}) on target {target.name!r}; "
                  "default deny")


def may_approve(req: Requirement, approver: str, requester: str, config: RemediationConfig) -> None:
    if approver == requester and not config.requester_may_approve:
        raise Refused(f"{approver} requested this action and cannot approve it too")
    if "*" not in req.approvers and approver not in req.approvers:
        raise Refused(f"{approver} is not an approver for this action (approvers: {', '.join(req.approvers)})")


def satisfied(req: Requirement, approvals: Sequence[Approval], plan_hash: str, now: datetime) -> list[Approval]:
    """The approvals that count, or Refused explaining what is missing."""
    if req.auto:
        return []
    rejected = [a for a in approvals if a.decision is ApprovalDecision.REJECT and a.plan_hash == plan_hash]
    if rejected:
        raise Refused(f"rejected by {rejected[0].approver}: {rejected[0].reason or 'no reason given'}")
    for_other_plan = [a for a in approvals if a.plan_hash != plan_hash]
    expired = [a for a in approvals if a.plan_hash == plan_hash and a.expires_at <= now]
    valid: dict[str, Approval] = {}
    for a in approvals:
        if a.decision is ApprovalDecision.APPROVE and a.plan_hash == plan_hash and a.expires_at > now:
            valid.setdefault(a.approver, a)
    if len(valid) >= req.required:
        return list(valid.values())
    why = [f"needs {req.required} approval(s) from distinct approvers, has {len(valid)} valid"]
    if expired:
        why.append(f"{len(expired)} expired")
    if for_other_plan:
        why.append(f"{len(for_other_plan)} given for a different plan (the plan changed)")
    raise Refused("; ".join(why))
