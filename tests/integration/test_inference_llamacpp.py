"""Inference-service checks against a REAL llama.cpp server (llama-cpp-python) with real faults.

The server serves a tiny random-weights GGUF written by the test (nonsense answers, real protocol,
real streaming and timing). Faults: its one slot saturated by long streamed requests, the process
SIGSTOPped (hung: the port accepts, nothing answers), the process stopped (refused), restarted.
Finally the agent is pointed at it as its LLM: it must end within its budget, execute nothing and
fall back to the deterministic answer, saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from steadyops.agent.ask import Investigator
from steadyops.agent.llm import OpenAICompatLLM
from steadyops.agent.loop import Budget
from steadyops.config.settings import LLMConfig
from steadyops.core.models import CheckStatus
from steadyops.integrations.inference import checks
from steadyops.integrations.inference.restarts import RestartCheck
from tests.harness.llamacpp import LlamaServer, start_llamacpp
from tests.harness.services import ServiceMissing, unavailable

pytestmark = pytest.mark.integration
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    try:
        with start_llamacpp(tmp_path_factory.mktemp("llama")) as server:
            yield server
    except ServiceMissing as exc:
        unavailable(exc)


def wait_idle(server: LlamaServer, timeout: float = 90.0) -> None:
    """Until the server answers /v1/models again (its one slot free)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{server.address}/v1/models", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"llama.cpp server still busy after {timeout:g}s: {server.tail()}")


async def run(check: type[checks.InferenceCheck], server: LlamaServer, **labels: str) -> Any:
    target = server.target(**labels)
    return await check().run(target)  # a fresh memory: nothing read before


async def test_healthy_server(llama: LlamaServer) -> None:
    health = await run(checks.HealthCheck, llama)
    assert health.status is OK and "openai live and ready" in health.summary  # no /metrics: the OpenAI flavour
    probe = await run(checks.ProbeCheck, llama, ttft_slo_ms="20000", itl_slo_ms="5000")
    assert probe.status is OK, probe.summary
    assert probe.metrics["tokens"] >= 1 and probe.metrics["ttft_ms"] > 0 and "POST" in probe.evidence[0].source
    queue = await run(checks.QueueCheck, llama)  # said, not guessed, and not an alert that never resolves
    assert queue.status is OK and queue.summary.startswith("not applicable: the openai endpoint publishes no")
    vllm = await run(checks.QueueCheck, llama, flavour="vllm")  # a vLLM without /metrics: misconfigured
    assert vllm.status is UNKNOWN and vllm.layer == "config"
    restarts = await run(RestartCheck, llama, log_path=str(llama.log))
    assert restarts.status is OK, restarts.summary


async def test_saturated_is_capacity_not_hung(llama: LlamaServer) -> None:
    """Every slot busy: llama-cpp-python queues /v1/models (its health path) behind the generation,
    so the health path times out exactly as on a hung server. The root still answers at once, and
    that tells them apart: saturated is a capacity finding, never "hung", and no restart is offered."""
    async def long_requests() -> None:  # one after another until cancelled, so the slot never frees
        while True:
            async with httpx.AsyncClient(timeout=120) as client, client.stream(
                    "POST", f"http://{llama.address}/v1/chat/completions",
                    json={"model": "tiny", "stream": True, "max_tokens": 400, "logit_bias": {"2": -100},
                          "messages": [{"role": "user", "content": "write a long story"}]}) as resp:
                async for _line in resp.aiter_lines():  # </s> banned: random weights would stop at random
                    pass

    from steadyops.contracts.actions import Symptom
    from steadyops.integrations.inference.actions import RestartInference
    from steadyops.runner.scheduler import gate_failed

    idle = await run(checks.ProbeCheck, llama, model="tiny", ttft_slo_ms="60000")
    slo = max(3 * idle.metrics["ttft_ms"], 500.0)  # an SLO the idle server meets three times over
    load = [asyncio.create_task(long_requests()) for _ in range(3)]
    try:
        await asyncio.sleep(1.0)  # the one slot is taken; two more requests wait behind it
        health = await run(checks.HealthCheck, llama, timeout="1")
        assert health.status is WARN and health.layer == "capacity", health.summary
        assert health.labels == {"saturated": "true"} and "(saturated: every slot busy" in health.summary
        assert not gate_failed(health)  # the other checks still run on a saturated server
        probe = await run(checks.ProbeCheck, llama, model="tiny", ttft_slo_ms=f"{slo:.0f}", probe_timeout="6")
        assert probe.status is CRIT and probe.layer == "capacity", (slo, probe.summary)
        assert "hung" not in probe.labels and "hung" not in probe.summary
        assert f"over the {slo:.0f} ms SLO" in probe.summary or "(saturated: every slot busy" in probe.summary
        symptoms = [Symptom(check=name, target_kind="inference", status=f.status, layer=f.layer,
                            liveness=name == "inference.health")
                    for name, f in (("inference.health", health), ("inference.probe", probe))]
        assert not any(RestartInference.can_remedy(s) for s in symptoms)  # a restart would drop the queue
    finally:
        for task in load:
            task.cancel()
        await asyncio.gather(*load, return_exceptions=True)
    await asyncio.to_thread(wait_idle, llama)
    assert (await run(checks.HealthCheck, llama)).status is OK


async def test_hung_server_sigstop(llama: LlamaServer) -> None:
    llama.pause()
    try:
        health = await run(checks.HealthCheck, llama, timeout="1")
        assert health.status is CRIT and health.labels == {"hung": "true"} and health.layer == "process"
        assert "nothing else in the process answers either (the server is hung)" in health.summary
        probe = await run(checks.ProbeCheck, llama, model="tiny", probe_timeout="2", timeout="1")
        assert probe.status is CRIT and probe.labels == {"hung": "true"} and probe.layer == "process"
    finally:
        llama.resume()
    await asyncio.to_thread(wait_idle, llama)
    assert (await run(checks.HealthCheck, llama)).status is OK


async def test_stopped_then_restarted(llama: LlamaServer) -> None:
    llama.stop()
    try:
        health = await run(checks.HealthCheck, llama)
        assert health.status is CRIT and "connection refused (the server process is down)" in health.summary
        restarts = await run(RestartCheck, llama, log_path=str(llama.log))
        assert restarts.status is CRIT and "refused" in restarts.summary
    finally:
        llama.start()
    assert (await run(checks.HealthCheck, llama)).status is OK


async def test_agent_on_a_nonsense_model_falls_back(llama: LlamaServer, make_app: Any) -> None:
    from steadyops.store.tables import ActionRunRow

    app = make_app()
    llm = OpenAICompatLLM(LLMConfig(base_url=f"http://{llama.address}/v1", model="tiny", max_retries=0,
                                    timeout=60, max_tokens=24))
    budget = Budget(max_steps=3, max_tokens=60_000, tool_timeout=10)
    started = time.monotonic()
    answer = await Investigator(app, llm, budget=budget).ask("why is llm-1 slow?", "en")
    elapsed = time.monotonic() - started
    print(f"agent on llama.cpp: {elapsed:.1f}s, reason: {answer.details['fallback_reason']}, "
          f"usage: {answer.usage}, errors: {answer.errors[:2]}")
    assert answer.mode == "deterministic", answer.text
    assert answer.text.startswith("The model's answer was not usable (") and answer.details["fallback_reason"]
    assert answer.usage is None or answer.usage.total_tokens <= budget.max_tokens + 24 * budget.max_steps
    assert elapsed < budget.max_steps * 60 + 5  # bounded by steps × the client timeout, whatever the model does
    with app.store.transaction() as s:
        assert list(s.scalars(select(ActionRunRow))) == []  # nothing proposed, nothing executed
    zh = await Investigator(app, llm, budget=budget).ask("llm-1 为什么慢？", "zh")
    assert zh.mode == "deterministic" and zh.text.startswith("大模型的回答不可用（")


def test_tiny_model_file(tmp_path: Path) -> None:
    pytest.importorskip("gguf")
    from tests.harness.llamacpp import write_tiny_gguf

    path = write_tiny_gguf(tmp_path / "m.gguf")
    assert path.read_bytes()[:4] == b"GGUF" and path.stat().st_size < 4_000_000


async def test_restart_action_waits_for_health_and_warms_up(llama: LlamaServer, make_app: Any,
                                                            tmp_path: Path) -> None:
    from steadyops.integrations.inference.actions import RestartInference
    from steadyops.plugins import Registry

    script = llama.restart_script()
    inv = tmp_path / "inventory.yaml"
    inv.write_text("targets:\n"
                   f"  - {{name: llm-1, kind: inference, address: '{llama.address}',"
                   f" labels: {{restart_command: '{script}', model: tiny, probe_timeout: '30'}}}}\n")
    reg = Registry()
    reg.add_action(RestartInference)
    app = make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["inference.restart"], "mode": "auto"}],
        "allow": [{"actions": ["inference.restart"], "commands": [[str(script)]]}]})
    llama.pause()  # hung: the restart is the remedy
    run = await app.executor.propose("inference.restart", "llm-1", {"ready_timeout": 60}, "oncall")
    assert [s["kind"] for s in run.plan["steps"]] == ["command", "check", "check"]
    outcome = await app.executor.apply(run.id, "oncall")
    assert outcome.ok, (outcome.summary, llama.tail())
    assert outcome.details["warmup_tokens"] >= 1 and outcome.details["warmup_ttft_ms"] > 0
    assert llama.pid_file.exists()  # a new server process serves now
    assert (await run_check_ok(llama)).status is OK
    kinds = [e.kind for e in app.audit.entries()]
    assert kinds[0] == "planned" and "succeeded" in kinds and app.audit.verify().ok


async def run_check_ok(server: LlamaServer) -> Any:
    return await run(checks.HealthCheck, server)
