"""Widgets: a made-up kind of system, watched by a plugin that imports only ``steadyops`` (the public API).

A widget target says how it is through its ``state`` label (``ok`` / ``jammed``); the check reads
it, ``widget.reset`` plans (and pretends to apply) a reset, ``widget检测`` inspects every widget,
every report with widget findings gets a "Widgets" section counting the jammed ones, and
``runbooks/widget-jammed.en.md`` joins the knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel

from steadyops import (
    Action,
    ActionContext,
    Approval,
    Check,
    CheckResult,
    CheckStatus,
    Cleanup,
    DoCommand,
    Finding,
    Inventory,
    Outcome,
    Plan,
    Registry,
    ReportSection,
    Risk,
    Step,
    Target,
)

KIND = "widget"


class WidgetAlive(Check):
    """Is the widget turning? (its ``state`` label; ``jammed`` is critical)."""

    name: ClassVar[str] = "widget.alive"
    target_kind: ClassVar[str] = KIND

    async def run(self, target: Target) -> CheckResult:
        state = target.labels.get("state", "ok")
        status = CheckStatus.CRITICAL if state == "jammed" else CheckStatus.OK
        return CheckResult(status=status, summary=f"widget {target.name} is {state}", layer="process")


class ResetParams(BaseModel):
    pass


class WidgetReset(Action):
    """Reset a jammed widget (low risk; the plan only describes it)."""

    name: ClassVar[str] = "widget.reset"
    target_kind: ClassVar[str] = KIND
    risk: ClassVar[Risk] = Risk.LOW
    Params: ClassVar[type[BaseModel]] = ResetParams
    remedies: ClassVar[tuple[str, ...]] = ("widget.alive",)

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        return Plan(action=self.name, target=target.name, risk=self.risk, created_at=datetime.now(UTC),
                    steps=[Step(description=f"reset widget {target.name}", kind="command")],
                    expected_effect="the widget turns again")

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        return Outcome(ok=True, summary=f"widget {plan.target} reset")


def section(findings: Sequence[Finding], inventory: Inventory | None) -> ReportSection | None:
    widgets = [f for f in findings if f.target_kind == KIND]
    if not widgets:
        return None
    jammed = sorted(f.target for f in widgets if f.status is CheckStatus.CRITICAL)
    return ReportSection(key=KIND, status=CheckStatus.CRITICAL if jammed else CheckStatus.OK,
                         title={"zh": "小部件", "en": "Widgets"},
                         body={"zh": f"卡住的小部件：{', '.join(jammed) or '无'}",
                               "en": f"jammed widgets: {', '.join(jammed) or 'none'}"})


def register(registry: Registry) -> None:
    registry.add_check(WidgetAlive)
    registry.add_action(WidgetReset)
    registry.add_kind_alias(KIND, "小部件", "widgets")
    registry.add_command(DoCommand(name="widget_check", kind=KIND, phrases=("widget检测", "check widget"),
                                   examples=("widget检测", "widget检测 w1")))
    registry.add_cleanup(Cleanup(kind=KIND, action=WidgetReset.name))
    registry.add_report_section(KIND, section)
    registry.add_runbooks(__name__)  # runbooks/*.md, searchable with the built-in ones
