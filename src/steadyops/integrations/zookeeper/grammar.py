"""What ZooKeeper adds to the platform besides checks: the ``zk检测`` phrase, its report section, its
cleanup, an agent tool and the words that name it — registered in :func:`register_extras`.

``zk检测`` is an inspection of every ZooKeeper target whose report carries the localisation (which
layer failed where, and what the ensemble still tolerates); over chat the answer is the
localisation itself. The diagnosis module is imported on first use, so loading the plugin stays cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from steadyops.contracts.sections import ReportSection
from steadyops.contracts.toolsets import Tool, ToolContext, Toolset
from steadyops.core.inventory import Inventory, split_address
from steadyops.core.models import Finding
from steadyops.integrations.zookeeper.base import TARGET_KIND
from steadyops.integrations.zookeeper.client import DEFAULT_PORT
from steadyops.integrations.zookeeper.messages import Lang, msg
from steadyops.plugins import Cleanup, DoCommand, Registry

if TYPE_CHECKING:
    from steadyops.runner.checks import CheckRunner

COMMAND = "zk_check"
LANGS: tuple[Lang, ...] = ("zh", "en")


async def answer(runner: CheckRunner, target: str | None, lang: str) -> str:
    """``zk检测 [target]`` over chat: the localisation, rendered."""
    from steadyops.integrations.zookeeper.diagnose import render, zk_inspect

    address = target if target and target != "all" else None
    return render(await zk_inspect(runner, address), lang if lang in LANGS else "zh")


def section(findings: Sequence[Finding], inventory: Inventory | None) -> ReportSection | None:
    """The ``zk检测`` localisation in any report that has ZooKeeper findings."""
    if not any(f.target_kind == TARGET_KIND for f in findings):
        return None
    from steadyops.integrations.zookeeper.diagnose import localise, render

    targets = list(inventory.targets.values()) if inventory else []
    result = localise(list(findings), addresses={tg.name: tg.address or tg.name for tg in targets},
                      clusters={tg.name: tg.labels["cluster"] for tg in targets if tg.labels.get("cluster")})
    return ReportSection(key=TARGET_KIND, status=result.status, title={lang: msg("section", lang) for lang in LANGS},
                         body={lang: render(result, lang) for lang in LANGS},
                         data=result.model_dump(mode="json", exclude={"findings"}))


class LocaliseParams(BaseModel):
    target: str = Field(default="", description="a ZooKeeper target name, host:port or host; empty: all")


class ZkToolset(Toolset):
    """``zk_localise``: the agent may run the ZooKeeper checks and read which layer failed where.

    Like the agent's other check tools it records nothing (no inspection run, no alert): it asks.
    """

    def __init__(self, context: ToolContext) -> None:
        self.context = context

    def tools(self) -> Sequence[Tool]:
        async def run(p: BaseModel) -> Any:
            from steadyops.integrations.zookeeper.diagnose import localise

            assert isinstance(p, LocaliseParams)
            zk = [tg for tg in self.context.inventory.targets.values() if tg.kind == TARGET_KIND and (
                  not p.target or p.target in (tg.name, tg.address)
                  or split_address(tg.address, DEFAULT_PORT)[0] == p.target)]
            if not zk:
                raise ValueError(f"no ZooKeeper target matches {p.target or 'the inventory'}")
            runner = self.context.checks
            jobs = runner.jobs(kinds=[TARGET_KIND], targets=[tg.name for tg in zk])
            findings = await asyncio.gather(*(runner.run_job(job) for job in jobs))
            report = localise(findings, addresses={tg.name: tg.address or tg.name for tg in zk},
                              clusters={tg.name: tg.labels["cluster"] for tg in zk if tg.labels.get("cluster")})
            return report.model_dump(mode="json", exclude={"findings"})

        return [Tool("zk_localise", "Run every ZooKeeper check (read-only, nothing recorded) and say which layer "
                     "failed on which server and whether the ensemble keeps quorum.", LocaliseParams, run,
                     source="zk检测")]


def register_extras(registry: Registry) -> None:
    registry.add_kind_alias(TARGET_KIND, "zk", "zoo")
    registry.add_command(DoCommand(
        name=COMMAND, kind=TARGET_KIND,
        phrases=("zk检测", "zk 检测", "zookeeper检测", "检测zk", "zk check", "check zk", "check zookeeper"),
        examples=("zk检测", "zk检测 10.0.0.5:2181", "inspect zookeeper 10.0.0.5", "disk cleanup zk zk-1"),
        answer=answer))
    registry.add_report_section(TARGET_KIND, section)
    registry.add_cleanup(Cleanup(kind=TARGET_KIND, action="zookeeper.purge"))
    registry.add_toolset("zookeeper", ZkToolset)
