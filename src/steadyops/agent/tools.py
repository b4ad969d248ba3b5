"""The agent's tools, generated from the registry: every collector and check is a read-only tool.

Adding an integration therefore adds tools without touching the agent. Actions appear only behind
``propose_action``, which mutates and so is deferred: the loop turns it into a pending approval.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from steadyops.agent.context import AgentApp
from steadyops.contracts.checks import Check
from steadyops.contracts.collectors import Collector
from steadyops.contracts.toolsets import Tool, ToolContext, Toolset
from steadyops.sources.promql import PromQL
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo


def tool_name(prefix: str, dotted: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", f"{prefix}_{dotted}")[:64]


class TargetParams(BaseModel):
    target: str = Field(description="target name or address from the inventory")


class NoParams(BaseModel):
    pass


class IncidentParams(BaseModel):
    status: str | None = Field(default=None, description="open, acknowledged or resolved")
    limit: int = Field(default=10, ge=1, le=50)


class AlertParams(BaseModel):
    status: str | None = Field(default="firing", description="firing or resolved")
    limit: int = Field(default=20, ge=1, le=100)


class KbParams(BaseModel):
    query: str = Field(description="what to look up, zh or en")
    k: int = Field(default=4, ge=1, le=10)


class PromQLParams(BaseModel):
    query: str = Field(description="a PromQL expression (read-only)")
    minutes: int = Field(default=0, ge=0, le=1440, description="0 = instant query; else a range this long")
    step_seconds: int = Field(default=60, ge=5, le=3600)


class ProposeParams(BaseModel):
    action: str = Field(description="action name from the catalogue, e.g. zookeeper.purge")
    target: str
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(description="why this action, citing evidence")


class PlatformToolset(Toolset):
    """Checks, collectors, topology and incident history over one App."""

    def __init__(self, app: AgentApp) -> None:
        self.app = app

    def _target(self, name: str, kind: str) -> Any:
        resolved = self.app.inventory.resolve(name) or name
        target = self.app.inventory.targets.get(resolved)
        if target is None:
            raise ValueError(f"unknown target {name!r}; known: {', '.join(sorted(self.app.inventory.targets))}")
        if kind not in (target.kind, "*"):
            raise ValueError(f"target {target.name} is a {target.kind}, this tool needs a {kind}")
        return target

    def _check_tool(self, cls: type[Check]) -> Tool:
        async def run(p: BaseModel) -> Any:
            assert isinstance(p, TargetParams)
            jobs = [j for j in self.app.checks.jobs(checks=[cls.name]) if j.target.name == self._target(
                p.target, cls.target_kind).name]
            finding = await self.app.checks.run_job(jobs[0])
            return finding.model_dump(mode="json", exclude={"started_at"})

        return Tool(tool_name("check", cls.name), f"Run the read-only check {cls.name} on a {cls.target_kind} target. "
                    + (cls.__doc__ or "").strip().split("\n")[0], TargetParams, run, source=f"check {cls.name}")

    def _collector_tool(self, cls: type[Collector]) -> Tool:
        async def run(p: BaseModel) -> Any:
            assert isinstance(p, TargetParams)
            snap = await cls().collect(self._target(p.target, cls.target_kind))
            return snap.model_dump(mode="json")

        return Tool(tool_name("collect", cls.name), cls.description, TargetParams, run, source=f"collector {cls.name}")

    def tools(self) -> Sequence[Tool]:
        reg = self.app.registry
        out = [self._check_tool(reg.checks.get(n)) for n in reg.checks.names()]
        out += [self._collector_tool(reg.collectors.get(n)) for n in reg.collectors.names()]

        async def topology(_: BaseModel) -> Any:
            return [{"name": t.name, "kind": t.kind, "address": t.address, "depends_on": t.depends_on,
                     "labels": t.labels} for t in self.app.inventory.targets.values()]

        async def incidents(p: BaseModel) -> Any:
            assert isinstance(p, IncidentParams)
            with self.app.store.transaction() as s:
                rows = incidents_repo.list_rows(s, status=p.status, limit=p.limit)
                return [inc.model_dump(mode="json", exclude={"alerts"}) for inc in incidents_repo.to_models(s, rows)]

        async def alerts(p: BaseModel) -> Any:
            assert isinstance(p, AlertParams)
            with self.app.store.transaction() as s:
                rows = alerts_repo.list_alerts(s, status=p.status, limit=p.limit)
                return [{"labels": r.labels, "annotations": r.annotations, "status": r.status,
                         "starts_at": r.starts_at.isoformat(), "incident_id": r.incident_id} for r in rows]

        async def catalogue(_: BaseModel) -> Any:
            return [{"name": n, "target_kind": reg.actions.get(n).target_kind, "risk": reg.actions.get(n).risk.value,
                     "params": reg.actions.get(n).Params.model_json_schema()} for n in reg.actions.names()]

        async def propose(p: BaseModel) -> Any:  # never called by the loop: mutating tools are deferred
            raise RuntimeError("propose_action is deferred to a human")

        async def kb(p: BaseModel) -> Any:
            assert isinstance(p, KbParams)
            passages = await asyncio.to_thread(self.app.knowledge.search, p.query, p.k)
            return [{"citation": x.citation, "heading": x.heading, "text": x.text[:1200]} for x in passages]

        out.append(Tool("kb_search", "Search runbooks and regulations; cite passages by their citation.", KbParams,
                        kb, source="knowledge base"))
        prom = self.app.settings.prometheus
        if prom is not None:
            client = PromQL(prom.url, prom.bearer_token.get_secret_value() if prom.bearer_token else None,
                            prom.timeout)

            async def promql(p: BaseModel) -> Any:
                assert isinstance(p, PromQLParams)
                if p.minutes == 0:
                    series = await asyncio.to_thread(client.query, p.query)
                else:
                    end = self.app.clock.now()
                    series = await asyncio.to_thread(client.query_range, p.query,
                                                     end - timedelta(minutes=p.minutes), end, p.step_seconds)
                return [{"metric": labels, "points": points[-60:]} for labels, points in series[:20]]

            out.append(Tool("promql_query", "Query Prometheus (read-only). Instant, or a range of N minutes.",
                            PromQLParams, promql, source="prometheus"))
        out += [
            Tool("topology", "List inventory targets, their kinds, addresses and dependencies.", NoParams, topology,
                 source="inventory"),
            Tool("incident_history", "Recent incidents with status and timings.", IncidentParams, incidents,
                 source="incidents"),
            Tool("current_alerts", "Alerts with their labels and annotations.", AlertParams, alerts, source="alerts"),
            Tool("action_catalogue", "Remediation actions that can be proposed, with their parameters.", NoParams,
                 catalogue, source="actions"),
            Tool("propose_action", "Propose a remediation. It is NOT executed: it becomes a request for a human "
                 "to approve through the approval policy.", ProposeParams, propose, mutates=True),
        ]
        return out


def plugin_tools(app: AgentApp) -> list[Tool]:
    """The tools every registered toolset (``registry.add_toolset``) offers now, in registry order."""
    context = ToolContext(checks=app.checks, inventory=app.inventory)
    return [tool for factory in app.registry.toolsets.values() for tool in factory(context).tools()]


def render_result(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str, indent=1)
