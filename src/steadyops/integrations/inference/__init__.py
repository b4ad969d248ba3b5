"""Model-serving endpoints (vLLM, SGLang, TGI, llama.cpp, Triton, Ollama, any OpenAI-compatible API).

Targets have kind ``inference``; see :mod:`.client` for the address and labels and
:mod:`.flavours` for how each server names its metrics. Checks: ``inference.health`` (liveness and
readiness), ``.probe`` (拨测: streamed chat, TTFT / ITL / tokens/s), ``.queue``, ``.kv_cache``,
``.ttft``, ``.errors`` (from ``/metrics``), ``.restarts`` (restart, CUDA OOM in the log).
Collectors: ``inference.metrics``, ``inference.probe_once``. Canary comparison: :mod:`.canary`.
"""

from __future__ import annotations

from steadyops.contracts.checks import Check
from steadyops.contracts.memory import remembering
from steadyops.integrations.inference import checks, restarts
from steadyops.integrations.inference.client import Readings
from steadyops.integrations.inference.collectors import COLLECTORS
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]

CHECKS: tuple[type[Check], ...] = (*checks.CHECKS, restarts.RestartCheck)


def register(registry: Registry) -> None:
    # model servers are one kind; the server flavour is a target label
    registry.add_kind_alias("inference", "推理服务", "推理", "模型服务", "llm", "vllm", "sglang", "tgi", "llama.cpp",
                            "llamacpp", "ollama", "triton", examples=("推理服务检测",))
    readings = Readings()  # this registry's: shared reads and metric history are never another App's
    for check in CHECKS:
        registry.add_check(remembering(check, readings))
    for collector in COLLECTORS:
        registry.add_collector(remembering(collector, readings))
    from steadyops.integrations.inference.actions import ACTIONS

    for action in ACTIONS:
        registry.add_action(remembering(action, readings))
