"""Actions on model servers, under the same plan → approve → apply → verify → audit model.

* ``inference.restart``: run the server's allow-listed restart command (label ``restart_command``,
  e.g. ``systemctl restart vllm``), wait until its health path answers (``ready_timeout``, the model
  has to load) and send one warm-up chat request, so the first user after a restart does not pay
  for CUDA graph capture and cold caches; the outcome carries the warm-up's TTFT.
* ``canary.rollback``: move a canary's traffic weight back to the baseline in the routing file the
  gateway reads (JSON or YAML, a mapping of backend → weight under ``weights_key``), then reload.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, Field

from steadyops.contracts.actions import Action, ActionContext
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Approval, Outcome, Plan, Risk, Step
from steadyops.integrations.inference.client import InferenceUnanswered, UsesReadings, get
from steadyops.integrations.inference.probe import run_probe
from steadyops.remediation import confedit


class RestartParams(BaseModel):
    command: list[str] = Field(default_factory=list, description="default: the target label restart_command")
    ready_timeout: float = Field(default=300.0, gt=0, le=3600, description="seconds to wait for health")
    warmup: bool = True


class RestartInference(UsesReadings, Action):
    """Restart a model server, then wait for its health check and send a warm-up request."""

    name: ClassVar[str] = "inference.restart"
    target_kind: ClassVar[str] = "inference"
    risk: ClassVar[Risk] = Risk.MEDIUM
    Params: ClassVar[type[BaseModel]] = RestartParams
    verify_checks: ClassVar[tuple[str, ...]] = ("inference.health",)
    remedies: ClassVar[tuple[str, ...]] = ("inference.health", "inference.restarts")
    #: down, hung or crashed; not saturated (a restart drops the queue and brings no capacity) nor OOM
    remedies_layers: ClassVar[tuple[str, ...]] = ("process",)
    rollback_on_failed_verify: ClassVar[bool] = False  # nothing to undo: a restart is its own retry

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, RestartParams)
        command = params.command or shlex.split(target.labels.get("restart_command", ""))
        if not command:
            raise Refused("no restart command: set the target label restart_command (and allow-list it)")
        steps = [Step(description=f"run {shlex.join(command)}", kind="command", command=command),
                 Step(description=f"wait until the health path answers 200 (at most {params.ready_timeout:g} s)",
                      kind="check")]
        if params.warmup:
            steps.append(Step(description="send one warm-up streamed chat request and record its TTFT", kind="check"))
        return Plan(action=self.name, target=target.name, params={**params.model_dump(mode="json"), "command": command,
                                                                  "target": target.model_dump(mode="json")},
                    risk=self.risk, steps=steps, expected_effect=f"{target.name} restarted, healthy and warmed up",
                    created_at=datetime.now(UTC))

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        target = Target.model_validate(plan.params["target"])
        rc, out = await confedit.run(plan.params["command"], ctx.allowed_commands, min(ctx.timeout, 120.0))
        if rc != 0:
            return Outcome(ok=False, summary=f"restart command failed (exit {rc})", output=out)
        self.memory.forget(target.name)
        started = time.monotonic()
        deadline = started + float(plan.params["ready_timeout"])
        last = ""
        while time.monotonic() < deadline:
            try:
                flavour, _m, _h = await self.memory.flavour_and_metrics(target)
                answer = await get(target, flavour.health_path)
                if answer.status == 200:
                    break
                last = f"HTTP {answer.status}"
            except InferenceUnanswered as exc:
                last = str(exc)
            self.memory.forget(target.name)
            await asyncio.sleep(1.0)
        else:
            return Outcome(ok=False, summary=f"not healthy within {plan.params['ready_timeout']:g}s: {last}",
                           output=out)
        details: dict[str, Any] = {"ready_after_s": round(time.monotonic() - started, 1)}
        if plan.params.get("warmup"):
            try:
                probe = await run_probe(target, flavour)
            except InferenceUnanswered as exc:
                return Outcome(ok=False, summary=f"healthy but the warm-up request failed: {exc}", details=details)
            details.update(warmup_ttft_ms=probe.ttft_ms, warmup_tokens=probe.tokens, warmup_error=probe.error)
            if probe.error:
                return Outcome(ok=False, summary=f"healthy but the warm-up request failed: {probe.error}",
                               details=details)
        return Outcome(ok=True, summary=f"{target.name} restarted, healthy after {details['ready_after_s']} s"
                       + (f", warm-up TTFT {details.get('warmup_ttft_ms')} ms" if plan.params.get("warmup") else ""),
                       output=out, details=details)


class CanaryRollbackParams(BaseModel):
    routing_file: str = Field(default="", description="default: the target label routing_file")
    canary: str = Field(min_length=1, description="the canary backend's key in the weights")
    baseline: str = Field(min_length=1, description="the backend that takes the canary's traffic back")
    weights_key: str = Field(default="weights", description="dotted path to the backend → weight mapping")
    reload_command: list[str] = Field(default_factory=list, description="default: the label reload_command")


def _load(text: str) -> Any:
    return json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)


def _weights(doc: Any, key: str) -> dict[str, Any]:
    node = doc
    for part in [p for p in key.split(".") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or not all(isinstance(v, int | float) for v in node.values()):
        raise Refused(f"no backend → weight mapping at {key!r} in the routing file")
    return node


class RollbackCanary(Action):
    """Send all of a canary's traffic back to the baseline (weight 0) in the gateway's routing file."""

    name: ClassVar[str] = "canary.rollback"
    target_kind: ClassVar[str] = "inference"
    risk: ClassVar[Risk] = Risk.MEDIUM
    Params: ClassVar[type[BaseModel]] = CanaryRollbackParams

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, CanaryRollbackParams)
        path = params.routing_file or target.labels.get("routing_file", "")
        if not path:
            raise Refused("no routing file: pass routing_file or set the target label routing_file")
        text, sha = confedit.read(path)
        try:
            doc = _load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise Refused(f"{path} is neither JSON nor YAML: {exc}") from None
        weights = _weights(doc, params.weights_key)
        for backend in (params.canary, params.baseline):
            if backend not in weights:
                raise Refused(f"{backend!r} is not a backend in {path} ({', '.join(weights)})")
        if weights[params.canary] == 0:
            raise Refused(f"the canary {params.canary!r} already has weight 0")
        after = {**weights, params.baseline: weights[params.baseline] + weights[params.canary], params.canary: 0}
        reload = params.reload_command or shlex.split(target.labels.get("reload_command", ""))
        steps = [Step(description=f"back up {path}; weights {weights} → {after}", kind="edit", paths=[path])]
        if reload:
            steps.append(Step(description=f"reload the gateway: {shlex.join(reload)}", kind="command", command=reload))
        return Plan(action=self.name, target=target.name, risk=self.risk, steps=steps,
                    params={**params.model_dump(mode="json"), "routing_file": path, "sha256": sha, "after": after,
                            "reload_command": reload},
                    expected_effect=f"{params.canary} gets no traffic; {params.baseline} serves it all",
                    rollback=[Step(description=f"restore {path} from the backup", kind="restore", paths=[path])],
                    created_at=datetime.now(UTC))

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        p = plan.params
        text, _sha = confedit.read(p["routing_file"])
        doc = _load(text)
        _weights(doc, p["weights_key"]).update(p["after"])
        is_json = text.lstrip().startswith("{")
        new = json.dumps(doc, indent=2) + "\n" if is_json else yaml.safe_dump(doc, sort_keys=False)
        backup = confedit.replace(p["routing_file"], new, p["sha256"], ctx.backup_dir, ctx.allowed_paths)
        out = ""
        if p.get("reload_command"):
            rc, out = await confedit.run(p["reload_command"], ctx.allowed_commands, ctx.timeout)
            if rc != 0:
                return Outcome(ok=False, summary=f"routing file changed but the reload failed (exit {rc})",
                               output=out, details={"backup": backup})
        return Outcome(ok=True, summary=f"canary {p['canary']} rolled back: weights now {p['after']}", output=out,
                       details={"backup": backup})

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        backup = outcome.details.get("backup")
        if not isinstance(backup, str):
            return Outcome(ok=False, summary="no backup recorded; nothing restored")
        confedit.restore(backup, plan.params["routing_file"], ctx.allowed_paths)
        return Outcome(ok=True, summary="routing file restored")


ACTIONS = (RestartInference, RollbackCanary)

__all__ = ["ACTIONS", "CanaryRollbackParams", "RestartInference", "RestartParams", "RollbackCanary"]
