"""``service.restart`` with the stop/start command form against a real (tiny) HTTP service.

systemd is not PID 1 here, so the service is a ``python -m http.server`` that a control script
starts (daemonised, and — like many real start scripts — leaving the daemon holding its stdout)
and stops by pid file. The health check is a small HTTP check registered for the test; the
before/after results, each command's output, and every refusal are asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from steadyops.contracts.actions import ActionContext
from steadyops.contracts.checks import Check
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import ApprovalDecision, CheckResult, CheckStatus, Step
from steadyops.integrations.host import register
from steadyops.integrations.host.service import RestartParams, ServiceRestart, for_registry, run_command
from steadyops.plugins import Registry
from tests.harness.services import free_port

CONTROL = r'''
import os, signal, subprocess, sys, time
action, port, pidfile = sys.argv[1], sys.argv[2], sys.argv[3]

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone for our purposes
    except OSError:
        return False

if action == "start":
    proc = subprocess.Popen([sys.executable, "-m", "http.server", port, "--bind", "127.0.0.1"],
                            start_new_session=True)  # inherits our stdout on purpose
    with open(pidfile, "w") as fh:
        fh.write(str(proc.pid))
    print("started", proc.pid, flush=True)
elif action == "stop":
    pid = int(open(pidfile).read())
    os.kill(pid, signal.SIGTERM)
    while alive(pid):
        time.sleep(0.02)
    print("stopped", pid, flush=True)
elif action == "fail":
    print("cannot stop: permission denied", flush=True)
    sys.exit(3)
elif action == "noop":
    print("exit 0, started nothing", flush=True)
elif action == "hang":
    with open(pidfile + ".hang", "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(60)
'''


class HttpUp(Check):
    """OK when ``http://<address>/`` answers 200."""

    name: ClassVar[str] = "test.http"
    target_kind: ClassVar[str] = "host"
    timeout: ClassVar[float] = 2.0

    async def run(self, target: Target) -> CheckResult:
        try:
            with urllib.request.urlopen(f"http://{target.address}/", timeout=1) as resp:
                return CheckResult(status=CheckStatus.OK, summary=f"HTTP {resp.status}")
        except OSError as exc:
            return CheckResult(status=CheckStatus.CRITICAL, summary=f"down: {exc}")


class Service:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.script = tmp / "control.py"
        self.script.write_text(CONTROL)
        self.pidfile = tmp / "http.pid"

    def argv(self, action: str) -> list[str]:
        return [sys.executable, str(self.script), action, str(self.port), str(self.pidfile)]

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text())

    @property
    def target(self) -> Target:
        return Target(name="web-1", kind="host", address=f"127.0.0.1:{self.port}")


@pytest.fixture
async def service(tmp_path: Path) -> Any:
    svc = Service(tmp_path)
    result = await run_command(svc.argv("start"), 10)
    assert result["exit"] == 0, result
    for _ in range(100):  # serving before any test asks (http.server needs a moment to bind)
        if (await HttpUp().run(svc.target)).status is CheckStatus.OK:
            break
        await asyncio.sleep(0.05)
    yield svc
    with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):  # gone, or never started
        os.kill(svc.pid, signal.SIGKILL)


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry()
    register(reg)  # the host plugin registers service.restart bound to this registry's checks
    reg.add_check(HttpUp)
    yield reg


def ctx(svc: Service, *allowed: str) -> ActionContext:
    return ActionContext(backup_dir="/nonexistent", allowed_paths=[],
                         allowed_commands=[svc.argv(a) for a in allowed or ("stop", "start")])


def params(svc: Service, **kw: Any) -> RestartParams:
    kw.setdefault("stop", svc.argv("stop"))
    kw.setdefault("start", svc.argv("start"))
    kw.setdefault("health_check", "test.http")
    kw.setdefault("health_timeout", 10)
    return RestartParams(**kw)


async def test_restart_through_the_executor_with_health_checks(service: Service, registry: Registry,
                                                               make_app: Any, tmp_path: Path) -> None:
    svc = service
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"targets:\n  - {{name: web-1, kind: host, address: '127.0.0.1:{svc.port}'}}\n")
    app = make_app(registry=registry, inventory=inv, remediation={
        "policies": [{"actions": ["service.restart"], "mode": "one", "approvers": ["alice"]}],
        "allow": [{"actions": ["service.restart"], "targets": ["web-1"],
                   "commands": [svc.argv("stop"), svc.argv("start")]}]})
    old_pid = svc.pid
    p = {"stop": svc.argv("stop"), "start": svc.argv("start"), "health_check": "test.http", "health_timeout": 10}
    run = await app.executor.propose("service.restart", "web-1", p, "dave")
    assert svc.pid == old_pid and run.risk == "high" and run.status == "pending_approval"  # planning ran nothing
    assert [s["kind"] for s in run.plan["steps"]] == ["check", "command", "command", "check"]
    assert run.plan["steps"][1]["command"] == svc.argv("stop")
    app.executor.decide(run.id, "alice", ApprovalDecision.APPROVE, "stuck worker")
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert outcome.summary == "restarted; test.http: ok → ok"
    assert svc.pid != old_pid
    stop, start = outcome.details["commands"]
    assert (stop["exit"], start["exit"]) == (0, 0) and f"stopped {old_pid}" in stop["output"]
    assert f"started {svc.pid}" in start["output"] and start["seconds"] < 5  # did not wait for the daemon
    assert outcome.details["before"]["status"] == outcome.details["after"]["status"] == "ok"
    assert [e.kind for e in app.audit.entries()] == ["planned", "approve", "apply_started", "succeeded"]


async def test_a_command_not_on_the_allow_list_is_refused(service: Service, registry: Registry, make_app: Any,
                                                          tmp_path: Path) -> None:
    svc = service
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"targets:\n  - {{name: web-1, kind: host, address: '127.0.0.1:{svc.port}'}}\n")
    app = make_app(registry=registry, inventory=inv, remediation={
        "policies": [{"actions": ["service.restart"], "mode": "auto"}],
        "allow": [{"actions": ["service.restart"], "commands": [svc.argv("stop"), svc.argv("start")]}]})
    sneaky = {"stop": [*svc.argv("stop"), "--now"], "start": svc.argv("start")}
    with pytest.raises(Refused, match="is not allow-listed"):
        await app.executor.propose("service.restart", "web-1", sneaky, "dave")
    with pytest.raises(Refused, match="is not allow-listed"):
        await app.executor.propose("service.restart", "web-1", {"stop": ["rm", "-rf", "/"], "start": ["true"]},
                                   "dave")
    assert [e.kind for e in app.audit.entries()] == ["refused", "refused"]
    assert (await HttpUp().run(svc.target)).status is CheckStatus.OK  # untouched


async def test_apply_rechecks_commands(service: Service, registry: Registry) -> None:
    action = registry.actions.get("service.restart")()
    plan = await action.plan(service.target, params(service), ctx(service))
    with pytest.raises(Refused, match="not allow-listed"):
        await action.apply(plan, [], ctx(service, "stop"))  # the allow-list shrank since planning
    swapped = plan.model_copy(update={"steps": [Step(kind="command", description="x", command=["true"]),
                                                *plan.steps[2:]]})
    with pytest.raises(Refused, match="do not match"):
        await action.apply(swapped, [], ctx(service))


async def test_a_failing_stop_does_not_start_a_second_copy(service: Service, registry: Registry) -> None:
    svc = service
    action = registry.actions.get("service.restart")()
    c = ctx(svc, "fail", "start")
    plan = await action.plan(svc.target, params(svc, stop=svc.argv("fail")), c)
    old_pid = svc.pid
    outcome = await action.apply(plan, [], c)
    assert not outcome.ok and outcome.summary == "stop command exited 3 (start not run)"
    assert "permission denied" in outcome.output and len(outcome.details["commands"]) == 1
    assert svc.pid == old_pid


async def test_a_hung_command_is_killed_at_its_timeout(service: Service, registry: Registry) -> None:
    svc = service
    action = registry.actions.get("service.restart")()
    c = ctx(svc, "hang", "start")
    plan = await action.plan(svc.target, params(svc, stop=svc.argv("hang"), timeout=0.5), c)
    outcome = await action.apply(plan, [], c)
    assert not outcome.ok and outcome.summary == "stop command timed out (start not run)"
    assert outcome.details["commands"][0]["seconds"] < 5


def _gone_or_zombie(pid: int) -> bool:
    """Read once: the process may exit between an exists() and a read of its stat."""
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True


async def test_the_executors_timeout_kills_the_running_command(service: Service, registry: Registry) -> None:
    svc = service
    action = registry.actions.get("service.restart")()
    c = ctx(svc, "hang", "start")
    plan = await action.plan(svc.target, params(svc, stop=svc.argv("hang")), c)
    with pytest.raises(TimeoutError):  # what Executor._run_apply does with ctx.timeout
        await asyncio.wait_for(action.apply(plan, [], c), 0.5)
    hang = int(Path(f"{svc.pidfile}.hang").read_text())
    for _ in range(100):
        if _gone_or_zombie(hang):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the hung stop command outlived the cancelled apply")


async def test_unhealthy_after_restart_fails_the_run_and_says_it_was_ok_before(service: Service,
                                                                                registry: Registry) -> None:
    svc = service
    action = registry.actions.get("service.restart")()
    c = ctx(svc, "stop", "noop")
    plan = await action.plan(svc.target, params(svc, start=svc.argv("noop"), health_timeout=0.5), c)
    outcome = await action.apply(plan, [], c)  # "start" starts nothing: the service stays down
    assert not outcome.ok
    assert outcome.summary.startswith("restarted, but test.http is critical after 0.5s")
    assert outcome.summary.endswith("it was OK before the restart")


async def test_plan_refusals(service: Service, registry: Registry) -> None:
    svc = service
    action = registry.actions.get("service.restart")()
    with pytest.raises(Refused, match="systemd is not running"):
        await action.plan(svc.target, RestartParams(unit="zookeeper.service"), ctx(svc))
    remote = Target(name="db-1", kind="host", address="10.0.0.7")
    with pytest.raises(Refused, match="no SSH key for target db-1"):  # remote: over SSH, which needs a key
        await action.plan(remote, params(svc), ctx(svc))
    with pytest.raises(Refused, match=r"did you mean test\.http"):
        await action.plan(svc.target, params(svc, health_check="test.htp"), ctx(svc))
    zk = Target(name="zk1", kind="zookeeper", address="127.0.0.1:2181")
    with pytest.raises(Refused, match="is for host targets"):
        await action.plan(zk, params(svc), ctx(svc))
    with pytest.raises(Refused, match="needs the check registry"):
        await ServiceRestart().plan(svc.target, params(svc), ctx(svc))  # unbound class


def test_params_need_exactly_one_form() -> None:
    with pytest.raises(ValidationError, match="either unit or stop"):
        RestartParams(unit="a.service", stop=["x"], start=["y"])
    with pytest.raises(ValidationError, match="both a stop and a start"):
        RestartParams(stop=["x"])
    with pytest.raises(ValidationError):
        RestartParams(unit="a.service; rm -rf /")
    assert for_registry(Registry()).name == "service.restart"
