"""``service.restart``: restart a systemd unit or run a configured stop/start pair, health-checked.

Why the health checks live inside ``apply`` and not in the executor's ``verify_checks``: the check
is a parameter (``health_check: zookeeper.ruok``), while ``verify_checks`` is fixed per action
class; and the executor only verifies *after* applying, whereas a restart needs the state
*before* too — "was healthy, is not now" (the restart broke it) reads very differently from
"was failing, is healthy now" (the restart fixed it). After the start command, the check is polled
until OK or ``health_timeout``: a service needs a moment to come up, and one failed probe right
after ``start`` would be a false alarm. A restart cannot be undone, so there is no rollback; a
failed after-check fails the run and keeps every command's output for the on-call engineer.

Every command is an exact argv list that must be allow-listed (``remediation.allow[].commands``)
and has a timeout. It runs through a :mod:`~steadyops.execution.shell`: on this host without a
shell, its process group killed whole on timeout; on a remote target over SSH as one
``shlex.join``-quoted line, after the host key was checked as for any inspection. Either way the
run ends when the command *exits*: a start script that daemonises leaves children holding its
stdout, and waiting for that to close would wait for the daemon to exit. If ``stop`` fails,
``start`` is not run (two copies of a service are worse than none). The unit form needs systemd
as PID 1 *on the target*, which the plan checks there.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from steadyops.contracts.actions import Action, ActionContext, Symptom
from steadyops.contracts.checks import Check
from steadyops.core.errors import PluginError, Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Approval, CheckResult, CheckStatus, Outcome, Plan, Risk, Step
from steadyops.execution.shell import LocalShell, Shell, shell_for, shell_for_plan
from steadyops.execution.where import EXEC_KEY, exec_record
from steadyops.integrations.host.base import UsesHost
from steadyops.plugins import Catalog, Registry
from steadyops.remediation.allowlist import AllowList

OUTPUT_LIMIT = 8000  # characters of each command's output kept in the outcome
POLL = 0.5  # seconds between after-checks


class RestartParams(BaseModel):
    unit: str | None = Field(default=None, pattern=r"^[A-Za-z0-9@:._\\-]+$", description="systemd unit")
    stop: list[str] | None = Field(default=None, min_length=1, description="stop command (argv), allow-listed")
    start: list[str] | None = Field(default=None, min_length=1, description="start command (argv), allow-listed")
    health_check: str | None = Field(default=None, description="a check run before and after, e.g. zookeeper.ruok")
    health_timeout: float = Field(default=30.0, gt=0, le=600, description="seconds to wait for the check to pass")
    timeout: float = Field(default=60.0, gt=0, le=3600, description="seconds each command may take")

    @model_validator(mode="after")
    def _one_form(self) -> RestartParams:
        if self.unit and (self.stop or self.start):
            raise ValueError("give either unit or stop + start commands, not both")
        if not self.unit and not (self.stop and self.start):
            raise ValueError("give a systemd unit, or both a stop and a start command")
        return self


def commands(params: RestartParams) -> list[tuple[str, list[str]]]:
    if params.unit:
        return [("restart", ["systemctl", "restart", params.unit])]
    assert params.stop is not None and params.start is not None
    return [("stop", params.stop), ("start", params.start)]


async def run_command(argv: Sequence[str], timeout: float, shell: Shell | None = None) -> dict[str, Any]:
    """Run one command (here unless ``shell`` says elsewhere) and describe how it went, output trimmed."""
    done = await (shell or LocalShell()).run(argv, timeout)
    text = done.output
    if len(text) > OUTPUT_LIMIT:
        text = "…" + text[-OUTPUT_LIMIT:]
    return {"argv": list(argv), "exit": done.rc, "output": text, "seconds": done.seconds, "timed_out": done.timed_out}


class ServiceRestart(UsesHost, Action):
    """Restart a service (systemd unit, or an allow-listed stop + start pair) with health checks around it."""

    name: ClassVar[str] = "service.restart"
    target_kind: ClassVar[str] = "*"
    risk: ClassVar[Risk] = Risk.HIGH
    Params: ClassVar[type[BaseModel]] = RestartParams
    #: a dead or hung process: a liveness check failing CRITICAL in the process layer
    remedies_layers: ClassVar[tuple[str, ...]] = ("process",)
    remedies_liveness: ClassVar[bool] = True

    @classmethod
    def can_remedy(cls, symptom: Symptom) -> bool:
        return symptom.status is CheckStatus.CRITICAL and super().can_remedy(symptom)

    @classmethod
    def suggest(cls, symptoms: Sequence[Symptom]) -> dict[str, object]:
        """The failing liveness check is the health check to run before and after the restart."""
        live = [s.check for s in symptoms if s.liveness]
        return {"health_check": live[0]} if live else {}
    #: the checks ``health_check`` may name; set by :func:`for_registry` (the registry it is registered in)
    checks: ClassVar[Catalog[type[Check]] | None] = None

    def _check(self, name: str, target: Target) -> type[Check]:
        if self.checks is None:
            raise Refused("health_check needs the check registry: register service.restart with for_registry()")
        try:
            cls = self.checks.get(name)
        except PluginError as exc:
            raise Refused(f"health_check: {exc}") from exc
        if cls.target_kind not in (target.kind, "*"):
            raise Refused(f"health_check {name} is for {cls.target_kind} targets; {target.name} is a {target.kind}")
        return cls

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, RestartParams)
        record = exec_record(target)
        # read-only looks, on the host that would run the commands
        async with shell_for(record, ctx.timeout, logins=self.memory.logins) as sh:
            if params.unit:
                systemd = await sh.stat("/run/systemd/system")
                if systemd is None or systemd.kind != "d":
                    raise Refused(f"systemd is not running on {sh.where} (no /run/systemd/system); "
                                  "configure stop and start commands instead of a unit")
            programs = [argv[0] for _what, argv in commands(params) if argv[0].startswith("/")]
            for program, found in (await sh.stats(programs) if programs else {}).items():
                if found is None:
                    raise Refused(f"{program} does not exist on {sh.where}")
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        cmds = commands(params)
        for _what, argv in cmds:
            allow.check_command(argv)
        steps: list[Step] = []
        plan_params = {**params.model_dump(mode="json"), EXEC_KEY: record}
        if params.health_check:
            self._check(params.health_check, target)
            # where the check goes is part of what is approved: a changed address needs a new approval
            plan_params["health_target"] = target.model_dump(mode="json", include={"name", "kind", "address", "labels",
                                                                                   "credentials"})
            steps.append(Step(kind="check", description=f"before: run {params.health_check} on {target.name} "
                              "and record the result"))
        steps.extend(Step(kind="command", command=argv, description=f"{what}: {shlex.join(argv)} "
                          f"(timeout {params.timeout:g}s)") for what, argv in cmds)
        if params.health_check:
            steps.append(Step(kind="check", description=f"after: wait up to {params.health_timeout:g}s for "
                              f"{params.health_check} to be OK; the run fails otherwise"))
        what = f"unit {params.unit}" if params.unit else "the service"
        return Plan(action=self.name, target=target.name, params=plan_params, risk=self.risk, steps=steps,
                    expected_effect=f"restarts {what} on {target.name}: it is unavailable while it restarts",
                    created_at=datetime.now(UTC),
                    notes=["no rollback: a restart cannot be undone; every command's output is kept"])

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        params = RestartParams.model_validate({k: v for k, v in plan.params.items()
                                               if k not in ("health_target", EXEC_KEY)})
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        planned = [s.command for s in plan.steps if s.kind == "command"]
        if planned != [argv for _what, argv in commands(params)]:
            raise Refused("the plan's commands do not match its parameters")
        for argv in planned:
            allow.check_command(argv)
        check, target = self._health(plan, params)
        details: dict[str, Any] = {"commands": []}
        if check is not None and target is not None:
            details["before"] = (await _probe(check, target)).model_dump(mode="json")
        async with shell_for_plan(plan, ctx.timeout, logins=self.memory.logins) as sh:
            details["where"] = sh.where
            for what, argv in commands(params):
                result = await run_command(argv, params.timeout, sh)
                details["commands"].append({"step": what, **result})
                if result["exit"] != 0:
                    why = "timed out" if result["timed_out"] else f"exited {result['exit']}"
                    skipped = " (start not run)" if what == "stop" else ""
                    return Outcome(ok=False, summary=f"{what} command {why}{skipped}", output=result["output"],
                                   details=details)
        output = "\n".join(f"$ {shlex.join(c['argv'])}\n{c['output']}" for c in details["commands"])
        if check is None or target is None:
            return Outcome(ok=True, summary="restarted (no health check configured)", output=output, details=details)
        after = await _wait_healthy(check, target, params.health_timeout)
        details["after"] = after.model_dump(mode="json")
        before = details["before"]["status"]
        if after.status is CheckStatus.OK:
            return Outcome(ok=True, summary=f"restarted; {check.name}: {before} → ok", output=output, details=details)
        worse = " — it was OK before the restart" if before == "ok" else ""
        return Outcome(ok=False, summary=f"restarted, but {check.name} is {after.status.value} after "
                       f"{params.health_timeout:g}s: {after.summary}{worse}", output=output, details=details)

    def _health(self, plan: Plan, params: RestartParams) -> tuple[Check | None, Target | None]:
        if not params.health_check:
            return None, None
        target = Target.model_validate(plan.params["health_target"])
        return self._check(params.health_check, target)(), target


async def _probe(check: Check, target: Target) -> CheckResult:
    """One run of the check, bounded by its own timeout; an error or timeout is UNKNOWN, never OK."""
    try:
        return await asyncio.wait_for(check.run(target), type(check).timeout)
    except TimeoutError:
        return CheckResult(status=CheckStatus.UNKNOWN, summary=f"{type(check).name} timed out")
    except Exception as exc:
        return CheckResult(status=CheckStatus.UNKNOWN, summary=f"{type(exc).__name__}: {exc}")


async def _wait_healthy(check: Check, target: Target, timeout: float) -> CheckResult:
    deadline = time.monotonic() + timeout
    while True:
        result = await _probe(check, target)
        if result.status is CheckStatus.OK or time.monotonic() >= deadline:
            return result
        await asyncio.sleep(min(POLL, max(0.0, deadline - time.monotonic())))


def for_registry(registry: Registry) -> type[ServiceRestart]:
    """``service.restart`` bound to ``registry``, whose checks its ``health_check`` parameter may name."""

    class BoundServiceRestart(ServiceRestart):
        __doc__ = ServiceRestart.__doc__
        checks: ClassVar[Catalog[type[Check]] | None] = registry.checks

    return BoundServiceRestart
