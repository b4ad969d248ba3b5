"""Reports assembled from the store: the previous run of the same scope, trends, and plugin sections."""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckResult, CheckStatus, Finding
from steadyops.plugins import Registry
from steadyops.reports import ScopeError, load_report, recent_runs, render_markdown, resolve_scope, result_history
from steadyops.reports import sections as sections_mod
from steadyops.reports.inspection import ChangeKind
from steadyops.runner.checks import CheckRunner

VERDICT: dict[tuple[str, str], CheckStatus] = {}
LEVEL: dict[str, float] = {}


class Memory(Check):
    name: ClassVar[str] = "redis.memory"
    target_kind: ClassVar[str] = "redis"

    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"memory {status}", metrics={"used_pct": LEVEL.get(target.name, 1)})


class Ruok(Check):
    name: ClassVar[str] = "zookeeper.ruok"
    target_kind: ClassVar[str] = "zookeeper"

    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"ruok {status}", layer="process")


@pytest.fixture
def runner(make_app: Any, fake_clock: FakeClock) -> CheckRunner:
    VERDICT.clear()
    LEVEL.clear()
    reg = Registry()
    reg.add_check(Memory)
    reg.add_check(Ruok)
    inv = Inventory([Target(name="r1", kind="redis", address="10.0.0.1:6379"),
                     Target(name="r2", kind="redis", address="10.0.0.2:6379"),
                     Target(name="zk1", kind="zookeeper", address="10.0.0.1:2181", labels={"cluster": "c1"})])
    app = make_app()
    return CheckRunner(reg, inv, app.store, fake_clock)


async def sweep(runner: CheckRunner, fake_clock: FakeClock, **scope: Sequence[str]) -> int:
    fake_clock.advance(60)
    resolved, jobs = resolve_scope(runner, **scope)
    run_id, _ = await runner.inspect(jobs, scope=resolved.as_dict())
    return run_id


async def test_ok_to_critical_and_back_with_trends(runner: CheckRunner, fake_clock: FakeClock) -> None:
    LEVEL["r1"] = 50
    first = await sweep(runner, fake_clock, kinds=["redis"])
    other_scope = await sweep(runner, fake_clock, kinds=["zookeeper"])  # never compared with a redis sweep
    VERDICT[("redis.memory", "r1")] = CheckStatus.CRITICAL
    LEVEL["r1"] = 97
    failing = await sweep(runner, fake_clock, kinds=["redis"])
    del VERDICT[("redis.memory", "r1")]
    LEVEL["r1"] = 40
    recovered = await sweep(runner, fake_clock, kinds=["redis"])

    assert load_report(runner.store, first).diff is None
    assert load_report(runner.store, other_scope).diff is None
    report = load_report(runner.store, failing, inventory=runner.inventory)
    assert report.diff is not None and report.diff.previous_run_id == first
    assert [(c.check, c.target, c.kind) for c in report.diff.changes] == [("redis.memory", "r1",
                                                                            ChangeKind.NEW_FAILURE)]
    assert report.targets[0].address == "10.0.0.1:6379"

    report = load_report(runner.store, recovered)
    assert report.diff is not None and report.diff.previous_run_id == failing
    assert [c.kind for c in report.diff.changes] == [ChangeKind.RECOVERED]
    assert report.history_for("redis.memory", "r1") == [CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.OK]
    series = next(s for s in report.trends if s.target == "r1")
    assert series.values == [50, 97, 40]
    # an old run's report does not see what came after it
    assert load_report(runner.store, failing).history_for("redis.memory", "r1") == [CheckStatus.OK,
                                                                                     CheckStatus.CRITICAL]
    assert [r.id for r in recent_runs(runner.store, limit=2)] == [recovered, failing]
    assert recent_runs(runner.store)[0].status is CheckStatus.OK
    assert [h.finding.status for h in result_history(runner.store, check="redis.memory", target="r1")] == [
        CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.OK]


def test_scope_is_normalised_and_explains_an_empty_selection(runner: CheckRunner) -> None:
    scope, jobs = resolve_scope(runner, kinds=["zk"], targets=["10.0.0.1"])
    assert scope.as_dict() == {"kinds": ["zookeeper"], "targets": ["zk1"], "checks": []}
    assert [(j.check.name, j.target.name) for j in jobs] == [("zookeeper.ruok", "zk1")]
    assert resolve_scope(runner, targets=["all"])[0].as_dict() == {"kinds": [], "targets": [], "checks": []}
    with pytest.raises(ScopeError, match=r"'r3' is not in the inventory; did you mean r[12], r[12]\?") as info:
        resolve_scope(runner, targets=["r3"])
    assert "不在清单中" in info.value.localised("zh")
    with pytest.raises(ScopeError, match=r"unknown check 'redis\.memroy'; did you mean redis\.memory"):
        resolve_scope(runner, checks=["redis.memroy"])
    with pytest.raises(ScopeError, match="kinds in the inventory: redis, zookeeper"):
        resolve_scope(runner, kinds=["mysql"])
    with pytest.raises(ScopeError, match="no target matches kind redis and target zk1"):
        resolve_scope(runner, kinds=["redis"], targets=["zk1"])
    runner.inventory.targets["m1"] = Target(name="m1", kind="mysql")
    with pytest.raises(ScopeError, match="no checks are registered for mysql"):
        resolve_scope(runner, kinds=["mysql"])


def fake_diagnosis(monkeypatch: pytest.MonkeyPatch, localise: Any, render: Any = None) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("fake_zk_diagnose")

    @functools.wraps(localise)  # the hook inspects the signature, which follows __wrapped__
    def recording(findings: list[Finding], **kw: Any) -> Any:
        calls.append({"findings": findings, **kw})
        return localise(findings, **kw)

    module.localise = recording  # type: ignore[attr-defined]
    if render is not None:
        module.render = render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_zk_diagnose", module)
    monkeypatch.setattr(sections_mod, "ZK_DIAGNOSE", "fake_zk_diagnose")
    return calls


class Verdict:
    status = CheckStatus.CRITICAL

    def render(self, lang: str) -> str:
        return "zk1：进程层故障" if lang == "zh" else "zk1: the process layer failed"


async def test_zookeeper_section_hook(runner: CheckRunner, fake_clock: FakeClock,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    VERDICT[("zookeeper.ruok", "zk1")] = CheckStatus.CRITICAL
    run_id = await sweep(runner, fake_clock, kinds=["zookeeper"])
    calls = fake_diagnosis(monkeypatch, lambda findings, **kw: Verdict())
    report = load_report(runner.store, run_id, inventory=runner.inventory)
    (section,) = report.sections
    assert section.key == "zookeeper" and section.status is CheckStatus.CRITICAL
    assert "zk1：进程层故障" in render_markdown(report, "zh")
    assert "ZooKeeper localisation" in render_markdown(report, "en")
    assert calls[0]["addresses"]["zk1"] == "10.0.0.1:2181" and calls[0]["clusters"] == {"zk1": "c1"}
    assert [f.check for f in calls[0]["findings"]] == ["zookeeper.ruok"]

    # a module-level render(result, lang) works too; a localise without keywords gets none
    fake_diagnosis(monkeypatch, lambda findings: "verdict", render=lambda result, lang: f"{result}/{lang}")
    assert load_report(runner.store, run_id).sections[0].body == {"zh": "verdict/zh", "en": "verdict/en"}

    def broken(findings: list[Finding], **kw: Any) -> Any:
        raise RuntimeError("boom")

    fake_diagnosis(monkeypatch, broken)
    (section,) = load_report(runner.store, run_id).sections
    assert section.status is CheckStatus.UNKNOWN and "RuntimeError: boom" in section.body["en"]

    monkeypatch.setattr(sections_mod, "ZK_DIAGNOSE", "steadyops_no_such_module")
    assert load_report(runner.store, run_id).sections == []


async def test_no_zookeeper_findings_no_section(runner: CheckRunner, fake_clock: FakeClock,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_diagnosis(monkeypatch, lambda findings, **kw: Verdict())
    run_id = await sweep(runner, fake_clock, kinds=["redis"])
    assert load_report(runner.store, run_id).sections == [] and calls == []
