"""The log tools: the scripted model searches real log files through the Investigator."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from steadyops.agent.ask import Investigator
from steadyops.agent.llm import LLMConfig, OpenAICompatLLM
from steadyops.agent.logtools import LogSearchParams, LogTemplateParams, LogToolset
from steadyops.core.clock import FakeClock
from steadyops.testing.scripted_llm import ScriptedLLM, Turn

SECRET = "Zk-S3cret!pass"


def log_app(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> Any:
    inv = tmp_path / "inv.yaml"
    inv.write_text("targets:\n  - {name: zk-1, kind: zookeeper, address: 10.0.0.7:2181}\n"
                   "  - {name: web-1, kind: host, address: 10.0.0.8}\n")
    now = fake_clock.now()
    lines = [f"{(now - timedelta(seconds=s)).isoformat()} INFO Processed session 0x{s:x} in {s % 9}ms"
             for s in range(1800, 60, -10)]
    lines += [f"{(now - timedelta(seconds=50 - i)).isoformat()} WARN fsync-ing the write ahead log took {900 + i}ms"
              for i in range(40)]
    lines.append(f"{(now - timedelta(seconds=5)).isoformat()} ERROR auth failed for digest user:password={SECRET}")
    (tmp_path / "zookeeper.log").write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return make_app(inventory=inv, log_sources=[{"path": str(tmp_path / "zookeeper*.log"), "target": "zk-1"}])


async def test_the_model_searches_logs_and_cites_them(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = log_app(make_app, fake_clock, tmp_path)
    turns = [Turn(tool_calls=[("search_logs", {"target": "zk-1", "pattern": "fsync.*took", "limit": 3})]),
             Turn(tool_calls=[("log_templates", {"target": "zk-1", "minutes": 30})]),
             Turn(tool_calls=[("search_logs", {"pattern": "auth failed"})]),
             Turn(content="fsync took over 900 ms repeatedly [E1], a new warning burst [E2]; root cause: slow disk.")]
    with ScriptedLLM(turns) as s:
        client = OpenAICompatLLM(LLMConfig(base_url=s.base_url, model="m", max_retries=0))
        answer = await Investigator(app, client).ask("why is zk-1 slow?", "en")
        bodies = json.dumps(s.requests, ensure_ascii=False)
    offered = {t["function"]["name"] for t in s.requests[0]["tools"]}
    assert {"search_logs", "log_templates"} <= offered
    tool_msgs = [m["content"] for m in s.requests[3]["messages"] if m["role"] == "tool"]
    assert "took 937ms" in tool_msgs[0] and "took 939ms" in tool_msgs[0] and "took 936ms" not in tool_msgs[0]
    assert '"line": ' in tool_msgs[0] and "zookeeper.log" in tool_msgs[0]
    assert "fsync-ing the write ahead log took <*>" in tool_msgs[1] and '"new"' in tool_msgs[1]
    assert all("untrusted-data-" in m for m in tool_msgs)  # fenced as data
    assert SECRET not in bodies and "auth failed" in tool_msgs[2]  # masked before it left
    assert [e.tool for e in answer.evidence] == ["search_logs", "log_templates", "search_logs"]
    assert answer.mode == "llm" and not answer.inconclusive


async def test_tools_directly_and_their_errors(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = log_app(make_app, fake_clock, tmp_path)
    tools = {t.name: t for t in LogToolset(app.logs).tools()}
    assert not any(t.mutates for t in tools.values()) and "zk-1" in tools["search_logs"].description
    summary = await tools["log_templates"].run(LogTemplateParams(target="zk-1", minutes=5))
    (spike,) = [t for t in summary["spiking"] if "fsync" in t["template"]]
    assert spike["new"] and spike["score"] > 0.5 and summary["lines"] == 40 + 1 + 24
    lines = await tools["search_logs"].run(LogSearchParams(pattern="processed session", minutes=1))
    assert lines == []  # the INFO traffic stopped a minute before now
    for bad in (LogSearchParams(target="web-1", pattern="x"), LogSearchParams(pattern="(x+)+y")):
        try:
            await tools["search_logs"].run(bad)
        except ValueError as exc:
            assert "no log source" in str(exc) or "refused" in str(exc)
        else:
            raise AssertionError("expected a ValueError for the agent to read")


async def test_no_log_tools_without_log_sources(make_app: Any) -> None:
    app = make_app()
    assert app.logs is None
    assert not {"search_logs", "log_templates"} & {t.name for t in Investigator(app).tools}
