"""Chat API: deterministic without an LLM, the agent with one, and the SSE stream."""

from __future__ import annotations

from typing import Any

import httpx

from steadyops.server import create_server
from steadyops.testing.auth import admin_token, bearer
from steadyops.testing.scripted_llm import ScriptedLLM, Turn


async def test_chat_without_llm_answers_from_runbooks(make_app: Any) -> None:
    app = make_app()
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(admin_token(app))) as client:
        r = await client.post("/api/v1/chat", json={"question": "zookeeper 磁盘快满了怎么办", "lang": "zh"})
        body = r.json()
        assert r.status_code == 200 and body["mode"] == "deterministic"
        assert "未配置大模型" in body["answer"]
        assert any("zookeeper" in p["source"] for p in body["details"]["passages"])
        r = await client.post("/api/v1/chat", json={"question": ""})
        assert r.status_code == 422


async def test_chat_stream_with_llm(make_app: Any) -> None:
    with ScriptedLLM([Turn(tool_calls=[("topology", {})]), Turn(content="web-1 is fine [E1]. " * 10)]) as llm:
        app = make_app(llm={"base_url": llm.base_url, "model": "m", "max_retries": 0})
        transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
        auth = bearer(admin_token(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth) as client:
            r = await client.post("/api/v1/chat/stream", json={"question": "is web-1 ok?", "lang": "en"})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [block.split("\n")[0].removeprefix("event: ") for block in r.text.strip().split("\n\n")]
    assert events[0] == "start" and events[1] == "tool" and "evidence" in events and events[-1] == "done"
    assert events.count("delta") >= 2


async def test_chat_stream_forwards_model_deltas_and_tool_calls(make_app: Any) -> None:
    turns = [Turn(tool_calls=[("topology", {})]), Turn(content="拓扑正常，web-1 没有依赖异常 [E1]。")]
    with ScriptedLLM(turns) as llm:
        app = make_app(llm={"base_url": llm.base_url, "model": "m", "max_retries": 0, "stream": True})
        transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
        auth = bearer(admin_token(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth) as client:
            r = await client.post("/api/v1/chat/stream", json={"question": "拓扑正常吗？", "lang": "zh"})
    blocks = [b for b in r.text.strip().split("\n\n")]
    events = [b.split("\n")[0].removeprefix("event: ") for b in blocks]
    assert events[1] == "tool"  # the tool call is announced before the answer
    deltas = [b for b in blocks if b.startswith("event: delta")]
    assert len(deltas) > 3  # the scripted server streams 4-character chunks; each is forwarded
    assert llm.requests[-1]["stream"] is True
