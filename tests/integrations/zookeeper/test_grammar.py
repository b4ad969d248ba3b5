"""What ZooKeeper registers besides checks: ``zk检测``, its report section, its cleanup and agent tool."""

from __future__ import annotations

from typing import Any

import pytest

from steadyops.agent.commands import Grammar
from steadyops.contracts.toolsets import ToolContext
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.zookeeper import register
from steadyops.plugins import Registry
from steadyops.reports import recent_runs
from steadyops.runner.checks import CheckRunner
from tests.integrations.zookeeper.test_diagnose import FakeFactory, down, healthy


def registry() -> Registry:
    reg = Registry()
    reg.loading = "steadyops.integrations.zookeeper"
    register(reg)
    return reg


def test_zookeeper_brings_its_phrase_words_cleanup_section_and_tool() -> None:
    reg = registry()
    words = Grammar.from_registry(reg)
    cmd = words.parse("zk检测 10.0.0.5:2181")
    assert (cmd.intent, cmd.kind, cmd.target) == ("zk_check", "zookeeper", "10.0.0.5:2181")
    assert words.parse("巡检 zoo").kind == "zookeeper" and "zk检测" in words.examples
    assert reg.cleanup_for("zookeeper") is not None and reg.cleanup_for("zookeeper").action == "zookeeper.purge"
    assert reg.commands.origin("zk_check") == "steadyops.integrations.zookeeper"
    assert reg.toolsets.names() == ["zookeeper"] and reg.report_sections.names() == ["zookeeper"]


def test_the_section_localises_the_findings_of_any_report() -> None:
    (_key, section), = registry().sections()
    inventory = Inventory([Target(name=n, kind="zookeeper", address=f"10.0.0.{i}:2181", labels={"cluster": "c1"})
                           for i, n in enumerate(("zk1", "zk2", "zk3"), 1)])
    got = section([*healthy("zk1", "leader"), *healthy("zk2"), *down("zk3")], inventory)
    assert got is not None and got.key == "zookeeper" and got.status is CheckStatus.WARNING  # quorum held
    assert "zk3" in got.body["en"] and "zk3" in got.body["zh"] and got.title["zh"] != got.title["en"]
    assert got.data is not None and "findings" not in got.data
    assert section(healthy("zk1"), inventory) is not None
    assert section([], inventory) is None  # a report without ZooKeeper findings gets no section


async def test_the_agent_tool_localises_without_recording(make_app: Any, fake_clock: FakeClock, fake_zk: FakeFactory,
                                                          standalone_answers: dict[str, str]) -> None:
    reg = registry()
    async with fake_zk(standalone_answers) as zk:
        inv = Inventory([Target(name="zk-a", kind="zookeeper", address=zk.address, labels={"data_dir": "/nope"})])
        app = make_app()
        runner = CheckRunner(reg, inv, app.store, fake_clock)
        (tool,) = reg.toolsets.get("zookeeper")(ToolContext(checks=runner, inventory=inv)).tools()
        assert tool.name == "zk_localise" and not tool.mutates
        got = await tool.run(tool.params(target="127.0.0.1"))
        assert [t["target"] for t in got["targets"]] == ["zk-a"] and got["run_id"] is None
        assert recent_runs(app.store) == []  # it asked; it recorded no inspection
        with pytest.raises(ValueError, match=r"no ZooKeeper target matches 10\.9\.9\.9"):
            await tool.run(tool.params(target="10.9.9.9"))
