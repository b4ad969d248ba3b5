"""The OpenAI-compatible client against the scripted server: tools, streaming, retries, quirks."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from steadyops.agent.llm import LLMConfig, LLMError, Message, OpenAICompatLLM, ToolSpec
from steadyops.testing.scripted_llm import ScriptedLLM, Turn

TOOL = ToolSpec("zookeeper_mntr", "ZooKeeper mntr", {"type": "object", "properties": {"target": {"type": "string"}}})


def client(llm: ScriptedLLM, **kw: object) -> OpenAICompatLLM:
    cfg = LLMConfig.model_validate({"base_url": llm.base_url, "model": "m", "timeout": 2, "max_retries": 2,
                                    "retry_backoff": 0.01, **kw})
    return OpenAICompatLLM(cfg)


async def test_tool_call_round_trip_and_usage() -> None:
    with ScriptedLLM([Turn(tool_calls=[("zookeeper_mntr", {"target": "zk-1"})]), Turn(content="quorum ok")]) as s:
        llm = client(s, api_key="sk-test-1234567890abcdef", price_input_per_1k=1.0)
        r1 = await llm.complete([Message("user", "zk?")], [TOOL], tool_choice="auto")
        assert r1.tool_calls[0].name == "zookeeper_mntr" and '"zk-1"' in r1.tool_calls[0].arguments
        r2 = await llm.complete([Message("user", "zk?"), Message("assistant", tool_calls=r1.tool_calls),
                                 Message("tool", "{}", tool_call_id=r1.tool_calls[0].id)], [TOOL])
        assert r2.content == "quorum ok"
        assert s.requests[0]["tool_choice"] == "auto" and s.requests[0]["tools"][0]["function"]["name"]
        assert s.headers[0]["authorization"] == "Bearer sk-test-1234567890abcdef"
        assert llm.usage.prompt_tokens == 20 and llm.usage.cost == pytest.approx(0.02)


async def test_streaming_text_and_tool_calls() -> None:
    chunks: list[str] = []
    turns = [Turn(content="磁盘使用率 95%，建议清理"), Turn(tool_calls=[("zookeeper_mntr", {"target": "z"})])]
    with ScriptedLLM(turns) as s:
        llm = client(s, stream=True)
        r = await llm.complete([Message("user", "hi")], on_delta=chunks.append)
        assert r.content == "磁盘使用率 95%，建议清理" and len(chunks) > 1
        r = await llm.complete([Message("user", "hi")], [TOOL])
        assert r.tool_calls[0].arguments == '{"target": "z"}'


async def test_retries_429_and_5xx_then_succeeds() -> None:
    with ScriptedLLM([Turn(status=429, retry_after=0.01), Turn(status=503), Turn(content="ok")]) as s:
        llm = client(s)
        assert (await llm.complete([Message("user", "x")])).content == "ok"
        assert llm.usage.retries == 2


async def test_timeout_retried_then_gives_up() -> None:
    with ScriptedLLM(default=Turn(delay=1.0, content="late")) as s:
        llm = client(s, timeout=0.2, max_retries=1)
        with pytest.raises(LLMError, match="timed out"):
            await llm.complete([Message("user", "x")])


async def test_other_4xx_not_retried() -> None:
    with ScriptedLLM([Turn(status=400), Turn(content="never")]) as s:
        llm = client(s)
        with pytest.raises(LLMError, match="400"):
            await llm.complete([Message("user", "x")])
        assert len(s.requests) == 1


async def test_provider_quirks() -> None:
    with ScriptedLLM(default=Turn(content="ok", reasoning_content="think")) as s:
        await client(s, provider="ollama", stream=True).complete([Message("user", "x")], [TOOL], tool_choice="auto")
        assert "tool_choice" not in s.requests[-1] and "stream" not in s.requests[-1]
        await client(s, provider="dashscope").complete([Message("user", "x")])
        assert s.requests[-1]["enable_thinking"] is False
        msgs = [Message("user", "x"), Message("assistant", "a", reasoning_content="because"), Message("user", "y")]
        await client(s, provider="deepseek").complete(msgs)
        assert s.requests[-1]["messages"][1]["reasoning_content"] == "because"
        await client(s, provider="openai").complete(msgs)
        assert "reasoning_content" not in s.requests[-1]["messages"][1]


def test_api_key_is_secret() -> None:
    cfg = LLMConfig(base_url="http://x/v1", model="m", api_key=SecretStr("sk-abc"))
    assert "sk-abc" not in repr(cfg)
