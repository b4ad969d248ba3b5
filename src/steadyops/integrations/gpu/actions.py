"""``gpu.drain``: take a faulty GPU out of service — its replicas out of the serving pool, and the
Kubernetes node cordoned when one is configured.

Which replicas serve on which GPU is the operator's configuration, given as target labels (or as
parameters): ``pool_file`` (the load balancer's list of upstreams, one ``host:port`` per line, as an
nginx ``upstream`` include or an HAProxy server list), ``replicas`` (``"0=10.0.0.5:8001;1=10.0.0.5:8002"``,
GPU index → replica address), ``k8s_node`` (cordoned with ``kubectl cordon``), ``reload_command``
(e.g. ``nginx -s reload``). Every command must be allow-listed for the action; the pool file's path too.
Rollback puts the pool file back and uncordons the node.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from steadyops.contracts.actions import Action, ActionContext
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Approval, Outcome, Plan, Risk, Step
from steadyops.remediation import confedit


class DrainParams(BaseModel):
    gpu: str = Field(min_length=1, max_length=64, description="GPU index (from the alert's gpu label)")
    pool_file: str = Field(default="", description="serving pool file; default: the target label pool_file")
    replicas: list[str] = Field(default_factory=list, description="replica addresses on that GPU; default: "
                                                                  "the target label replicas")
    k8s_node: str = Field(default="", description="node to cordon; default: the target label k8s_node")
    reload_command: list[str] = Field(default_factory=list, description="default: the label reload_command")


def replicas_of(target: Target, gpu: str) -> list[str]:
    """``replicas: "0=a:1,b:2;1=c:3"`` → the addresses for GPU ``gpu``."""
    out: list[str] = []
    for part in target.labels.get("replicas", "").split(";"):
        index, _, addresses = part.partition("=")
        if index.strip() == gpu.strip():
            out.extend(a.strip() for a in addresses.split(",") if a.strip())
    return out


class DrainGpu(Action):
    """Take a faulty GPU's replicas out of the serving pool (and cordon its node when configured)."""

    name: ClassVar[str] = "gpu.drain"
    target_kind: ClassVar[str] = "gpu"
    risk: ClassVar[Risk] = Risk.MEDIUM
    Params: ClassVar[type[BaseModel]] = DrainParams
    remedies: ClassVar[tuple[str, ...]] = ("gpu.xid", "gpu.ecc", "gpu.bus", "gpu.hung", "gpu.nvlink")
    rollback_on_failed_verify: ClassVar[bool] = False  # a drained bad GPU stays drained

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, DrainParams)
        pool = params.pool_file or target.labels.get("pool_file", "")
        replicas = params.replicas or replicas_of(target, params.gpu)
        node = params.k8s_node or target.labels.get("k8s_node", "")
        reload = params.reload_command or shlex.split(target.labels.get("reload_command", ""))
        if not pool and not node:
            raise Refused("nothing to drain with: set the target label pool_file (and replicas) or k8s_node")
        steps: list[Step] = []
        rollback: list[Step] = []
        resolved = {"gpu": params.gpu, "pool_file": pool, "replicas": replicas, "k8s_node": node,
                    "reload_command": reload}
        if pool:
            if not replicas:
                raise Refused(f"no replica is mapped to GPU {params.gpu} (label replicas, "
                              f"e.g. \"{params.gpu}=host:port\")")
            text, sha = confedit.read(pool)
            lines = text.splitlines(keepends=True)
            gone = [ln for ln in lines if any(r in ln for r in replicas) and not ln.lstrip().startswith("#")]
            if not gone:
                raise Refused(f"{pool} lists none of {', '.join(replicas)}: already drained?")
            if len(gone) == len([ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]):
                raise Refused(f"draining GPU {params.gpu} would empty {pool}: refusing to take the whole pool down")
            resolved.update(pool_sha256=sha, remove_lines=[ln.rstrip("\n") for ln in gone])
            steps.append(Step(description=f"back up {pool} and remove {len(gone)} upstream line(s): "
                              + "; ".join(ln.strip() for ln in gone), kind="edit", paths=[pool]))
            rollback.append(Step(description=f"restore {pool} from the backup", kind="restore", paths=[pool]))
        if reload:
            steps.append(Step(description=f"reload the load balancer: {shlex.join(reload)}", kind="command",
                              command=reload))
        if node:
            steps.append(Step(description=f"cordon Kubernetes node {node}", kind="command",
                              command=["kubectl", "cordon", node]))
            rollback.append(Step(description=f"uncordon {node}", kind="command", command=["kubectl", "uncordon", node]))
        return Plan(action=self.name, target=target.name, params=resolved, risk=self.risk, steps=steps,
                    expected_effect=f"no new request reaches GPU {params.gpu} of {target.name}", rollback=rollback,
                    created_at=datetime.now(UTC))

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        p = plan.params
        details: dict[str, object] = {}
        if p.get("pool_file"):
            text, _sha = confedit.read(p["pool_file"])
            drop = set(p["remove_lines"])
            new = "".join(ln for ln in text.splitlines(keepends=True) if ln.rstrip("\n") not in drop)
            details["backup"] = confedit.replace(p["pool_file"], new, p["pool_sha256"], ctx.backup_dir,
                                                 ctx.allowed_paths)
        outputs = []
        for step in plan.steps:
            if step.kind == "command":
                rc, out = await confedit.run(step.command, ctx.allowed_commands, ctx.timeout)
                outputs.append(f"$ {shlex.join(step.command)} → exit {rc}: {out.strip()[:300]}")
                if rc != 0:
                    return Outcome(ok=False, summary=f"{shlex.join(step.command)} failed (exit {rc})",
                                   output="\n".join(outputs), details=details)
        removed = len(p.get("remove_lines", []))
        return Outcome(ok=True, summary=f"GPU {p['gpu']} drained: {removed} replica line(s) out of the pool"
                       + (f", node {p['k8s_node']} cordoned" if p.get("k8s_node") else ""),
                       output="\n".join(outputs), details=details)

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        backup = outcome.details.get("backup")
        if isinstance(backup, str):
            confedit.restore(backup, plan.params["pool_file"], ctx.allowed_paths)
        for step in plan.rollback:
            if step.kind == "command":
                await confedit.run(step.command, ctx.allowed_commands, ctx.timeout)
        return Outcome(ok=True, summary="pool file restored" + (", node uncordoned" if plan.params.get("k8s_node")
                                                                 else ""))


__all__ = ["DrainGpu", "DrainParams", "replicas_of"]
