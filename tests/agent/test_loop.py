"""The agent loop against the scripted model: budgets, validation, deferral, masking, citations."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from steadyops.agent.llm import LLMConfig, OpenAICompatLLM
from steadyops.agent.loop import AgentLoop, Budget
from steadyops.agent.tools import ProposeParams, TargetParams
from steadyops.contracts.toolsets import Tool
from steadyops.testing.scripted_llm import ScriptedLLM, Turn

SECRET = "Sup3rS3cretPassw0rd"


def tools(calls: list[str]) -> list[Tool]:
    async def mntr(p: BaseModel) -> Any:
        assert isinstance(p, TargetParams)
        calls.append(p.target)
        return {"zk_server_state": "follower", "zk_outstanding_requests": 9000,
                "conf": f"password={SECRET}", "big": "x" * 10_000}

    async def never(p: BaseModel) -> Any:
        raise AssertionError("a mutating tool must never run")

    return [Tool("collect_zookeeper_mntr", "mntr", TargetParams, mntr, source="collector zookeeper.mntr"),
            Tool("propose_action", "propose", ProposeParams, never, mutates=True)]


def llm(s: ScriptedLLM) -> OpenAICompatLLM:
    return OpenAICompatLLM(LLMConfig(base_url=s.base_url, model="m", max_retries=0))


async def test_investigates_cites_and_unmasks() -> None:
    calls: list[str] = []
    turns = [Turn(tool_calls=[("collect_zookeeper_mntr", {"target": "zk-1"})]),
             Turn(content="Outstanding requests are 9000 [E1]; root cause: overloaded follower. "
                          "Config shows password «SECRET_1».")]
    with ScriptedLLM(turns) as s:
        result = await AgentLoop(llm(s), tools(calls), budget=Budget(max_tool_chars=500)).run("why is zk slow?")
        bodies = json.dumps(s.requests, ensure_ascii=False)
    assert calls == ["zk-1"]
    assert SECRET not in bodies and "«SECRET_1»" in bodies
    assert "[cut:" in bodies  # large output cut to the budget
    assert "untrusted-data-" in s.requests[1]["messages"][-1]["content"]
    assert result.evidence[0].id == "E1" and not result.inconclusive
    assert SECRET in result.answer  # unmasked locally


async def test_malformed_and_invalid_arguments_are_reported_back() -> None:
    turns = [Turn(tool_calls=[("collect_zookeeper_mntr", "{not json")]),
             Turn(tool_calls=[("collect_zookeeper_mntr", {"host": "zk-1"})]),
             Turn(tool_calls=[("no_such_tool", {})]),
             Turn(content="inconclusive: could not collect evidence")]
    with ScriptedLLM(turns) as s:
        result = await AgentLoop(llm(s), tools([])).run("zk?")
    tool_msgs = [m["content"] for m in s.requests[3]["messages"] if m["role"] == "tool"]
    assert "not valid JSON" in tool_msgs[0] and "invalid arguments" in tool_msgs[1] and "no tool named" in tool_msgs[2]
    assert result.inconclusive and result.errors == ["collect_zookeeper_mntr: malformed arguments"]


async def test_last_step_withholds_tools() -> None:
    with ScriptedLLM(default=Turn(tool_calls=[("collect_zookeeper_mntr", {"target": "zk-1"})],
                                  content="still looking")) as s:
        result = await AgentLoop(llm(s), tools([]), budget=Budget(max_steps=3)).run("zk?")
    assert len(s.requests) == 3
    assert "tools" in s.requests[1] and "tools" not in s.requests[2]
    assert result.steps == 3 and result.answer == "still looking"


async def test_mutating_call_is_deferred_not_run() -> None:
    turns = [Turn(content="I will clean the disk.", tool_calls=[
        ("propose_action", {"action": "zookeeper.purge", "target": "zk-1", "reason": "disk 97% [E1]"})])]
    with ScriptedLLM(turns) as s:
        result = await AgentLoop(llm(s), tools([])).run("zk disk full")
    assert [d.arguments["action"] for d in result.deferred] == ["zookeeper.purge"]
    assert len(s.requests) == 1  # the run ended with the pending request
