"""Cross-layer diagnosis GPU → inference server → API: the bad GPU under a serving replica ranks
first when the replica's latency and errors jump, and the evidence shows the chain.

The GPU finding is the real ``gpu.xid`` verdict on a real kernel log (samples/README.md); the API
and replica findings are the shapes the real probe and inference checks return.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.integrations.gpu.actions import DrainGpu
from steadyops.integrations.gpu.checks_node import judge_xids
from steadyops.integrations.gpu.xid import parse_kernel_log
from steadyops.pipeline import diagnose
from steadyops.plugins import Registry
from steadyops.store import incidents as incidents_repo
from tests.harness.timeline import run_until

KERNEL_LOG = (Path(__file__).parents[1] / "integrations" / "gpu" / "samples" / "fallen-off-bus-nvsentinel-155.log")
BAD: set[str] = set()


class GpuXid(Check):
    """gpu.xid on the node's kernel log (the real sample on the bad node, nothing on the others)."""

    name: ClassVar[str] = "gpu.xid"
    target_kind: ClassVar[str] = "gpu"
    runbook: ClassVar[str | None] = "gpu/gpu-xid-errors.en.md"

    async def run(self, target: Target) -> CheckResult:
        text = KERNEL_LOG.read_text() if target.name in BAD else ""
        return judge_xids(parse_kernel_log(text), f"journalctl -k @ {target.name}")


class Probe(Check):
    """inference.probe: TTFT of a streamed chat request."""

    name: ClassVar[str] = "inference.probe"
    target_kind: ClassVar[str] = "inference"

    async def run(self, target: Target) -> CheckResult:
        if target.name in BAD:
            return CheckResult(status=CheckStatus.CRITICAL, summary="TTFT 9400 ms over the 2000 ms SLO",
                               layer="capacity", metrics={"ttft_ms": 9400.0})
        return CheckResult(status=CheckStatus.OK, summary="TTFT 180 ms", metrics={"ttft_ms": 180.0})


class Errors(Check):
    """inference.errors: failed requests since the last check."""

    name: ClassVar[str] = "inference.errors"
    target_kind: ClassVar[str] = "inference"

    async def run(self, target: Target) -> CheckResult:
        if target.name in BAD:
            return CheckResult(status=CheckStatus.WARNING, summary="14 failed request(s) since the last check",
                               layer="process")
        return CheckResult(status=CheckStatus.OK, summary="0 failed request(s) since the last check")


class ApiLatency(Check):
    """http_probe.latency of the public chat API."""

    name: ClassVar[str] = "http_probe.latency"
    target_kind: ClassVar[str] = "http_probe"

    async def run(self, target: Target) -> CheckResult:
        if target.name in BAD:
            return CheckResult(status=CheckStatus.WARNING, summary="p95 4100 ms over 3 tries", layer="capacity")
        return CheckResult(status=CheckStatus.OK, summary="p95 220 ms")


async def test_bad_gpu_under_a_replica_ranks_first_and_the_chain_is_shown(make_app: Any, fake_clock: FakeClock,
                                                                         tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "targets:\n"
        "  - {name: chat-api, kind: http_probe, address: 'https://chat.example/v1/health',"
        " depends_on: [llm-replica-1, llm-replica-2]}\n"
        "  - {name: llm-replica-1, kind: inference, address: '10.0.0.5:8001', depends_on: [gpu-node-5]}\n"
        "  - {name: llm-replica-2, kind: inference, address: '10.0.0.6:8001', depends_on: [gpu-node-6]}\n"
        "  - {name: gpu-node-5, kind: gpu, address: 10.0.0.5}\n"
        "  - {name: gpu-node-6, kind: gpu, address: 10.0.0.6}\n")
    reg = Registry()
    for check in (GpuXid, Probe, Errors, ApiLatency):
        reg.add_check(check)
    reg.add_action(DrainGpu)
    app = make_app(registry=reg, inventory=inv, route={"group_by": ["alertname"], "group_wait": "1s",
                                                       "group_interval": "2s", "repeat_interval": "1h"})
    BAD.clear()
    BAD.update({"chat-api", "llm-replica-1", "gpu-node-5"})
    await app.checks.inspect(app.checks.jobs())
    await run_until(app, fake_clock, 3.0)
    with app.store.transaction() as s:
        incidents = incidents_repo.list_rows(s)
        assert incidents
        diagnoses = [diagnose.latest(s, i.id, "deterministic") for i in incidents]
        d = next(x for x in diagnoses if x is not None and x.candidates)
        ranked = [c["target"] for c in d.candidates]
        print(f"diagnosis: {d.summary}\nranked: {ranked}")
        assert ranked[0] == "gpu-node-5", (ranked, d.summary)
        assert not d.inconclusive
        assert "gpu-node-6" not in ranked[:3] and "llm-replica-2" not in ranked[:3]
        chains = [e for e in d.evidence if e.get("kind") == "chain"]
        assert chains and chains[0]["path"][-1] == "gpu-node-5", d.evidence
        assert "llm-replica-1" in chains[0]["path"]
        assert "gpu-node-5 (gpu.xid: Xid 79 (GPU has fallen off the bus, hardware)" in chains[0]["summary"]
        assert "chain: " in d.summary and "gpu-node-5" in d.summary
        assert any(a["action"] == "gpu.drain" and a["target"] == "gpu-node-5" for a in d.actions)
