"""``ask`` / chat for a newcomer: one grammar, a model that is down, the incident the question names."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from steadyops.agent.ask import Investigator
from steadyops.agent.relevance import expand_kinds
from steadyops.core.i18n import Lang, t
from steadyops.core.models import Alert
from steadyops.plugins import load_plugins
from steadyops.server import create_server
from steadyops.testing.auth import admin_token, bearer, token_for
from tests.harness.timeline import push


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _incidents(app: Any, names: list[str]) -> None:
    for i, name in enumerate(names):
        push(app, app.clock, Alert(labels={"alertname": name, "instance": f"db-{i}", "severity": "critical"},
                                   annotations={"summary": f"{name} on db-{i}"}, starts_at=app.clock.now()))
        app.clock.advance(60)
    app.pipeline.process_sync()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_unreachable_model_falls_back_to_the_engine_and_says_so(make_app: Any, lang: Lang) -> None:
    app = make_app(llm={"base_url": f"http://127.0.0.1:{_closed_port()}/v1", "model": "m", "max_retries": 0,
                        "timeout": 2})
    _incidents(app, ["BackupFailed2", *(f"Other{i}" for i in range(7))])
    answer = await Investigator(app).ask("why is BackupFailed2 firing?", lang)
    assert answer.mode == "deterministic" and answer.details["model_unreachable"] is True
    assert answer.text.splitlines()[0] == t("ask.model_unreachable", lang)
    assert "model_error" in answer.details and not answer.errors
    # the incident the question names comes first although seven newer ones are open
    assert answer.details["incidents"][0]["title"].startswith("BackupFailed2")


async def test_without_a_model_the_named_incident_is_in_the_answer(make_app: Any) -> None:
    app = make_app()
    _incidents(app, ["BackupFailed2", *(f"Other{i}" for i in range(7))])
    answer = await Investigator(app).ask("why is BackupFailed2 firing?", "en")
    assert "BackupFailed2" in answer.text
    assert answer.details["incidents"][0]["title"].startswith("BackupFailed2")


def test_kind_aliases_reach_retrieval(make_app: Any) -> None:
    app = make_app(registry=load_plugins(entry_points_too=False))  # the built-ins' grammar
    aliases = app.registry.words()
    assert "zookeeper" in expand_kinds("为什么 zk 集群告警？", aliases)
    assert expand_kinds("why is the disk full?", aliases) == "why is the disk full?"
    for question in ("为什么 zk 集群告警？", "why is zk alerting?"):
        (top, *_rest) = app.knowledge.search(expand_kinds(question, aliases), 3)
        assert "zookeeper" in top.source.lower(), (question, top.source)


async def test_chat_and_cli_share_one_grammar(make_app: Any) -> None:
    """``zk检测`` over chat runs the ZooKeeper check (no ZooKeeper here: it says so), not an incident list."""
    app = make_app(registry=load_plugins(entry_points_too=False))  # the built-ins' grammar
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(admin_token(app))) as client:
        body = (await client.post("/api/v1/chat", json={"question": "zk检测", "lang": "zh"})).json()
        assert body["mode"] == "command" and body["details"]["command"] == "zk_check"
        assert "未配置大模型" not in body["answer"]
        body = (await client.post("/api/v1/chat", json={"question": "事件列表", "lang": "en"})).json()
        assert body["mode"] == "command" and body["answer"] == t("cli.no_incidents", "en")
        body = (await client.post("/api/v1/chat", json={"question": "巡检 nosuchkind", "lang": "en"})).json()
        assert body["mode"] == "command" and body["inconclusive"] is True


async def test_chat_commands_need_the_role_their_route_needs(make_app: Any) -> None:
    """A viewer may list incidents over chat but not run checks or propose plans through it."""
    app = make_app(registry=load_plugins(entry_points_too=False))  # the built-ins' grammar
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    viewer = bearer(token_for(app, "vera", "viewer"))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=viewer) as client:
        body = (await client.post("/api/v1/chat", json={"question": "zk检测", "lang": "en"})).json()
        assert body["details"].get("refused") is True and "responder" in body["answer"]
        body = (await client.post("/api/v1/chat", json={"question": "磁盘清理 all", "lang": "zh"})).json()
        assert body["details"].get("refused") is True and body["proposals"] == []
        body = (await client.post("/api/v1/chat", json={"question": "事件列表", "lang": "en"})).json()
        assert body["details"].get("refused") is None and body["mode"] == "command"
