"""Inference-service drills (issue 14): a saturated queue, a dead server, a hung server.

Same goals as the other drills (one incident per fault, detect ≤ 15 s, right top-1 ≤ 30 s, recover
≤ 60 s after approval). The server is a real llama.cpp server (``tests.harness.llamacpp``:
llama-cpp-python serving a tiny random GGUF); its ``restart-llama.sh`` is what ``inference.restart``
is allow-listed to run, exactly as a real ``systemctl restart vllm`` would be.

Besides the right target, these drills must be read as the right *kind* of fault: the saturated
server's leading finding is a capacity one (its health path queues behind busy slots exactly as a
hung server's times out; the checks tell them apart, see ``integrations/inference/client.py``),
the dead and hung ones a process one. The harness prints that layer and marks a mismatch.

Wiring (the harness is i9a's, so this file only defines the drills): the environment needs
``env.llm``, a started :class:`~tests.harness.llamacpp.LlamaServer` (``start_llm``), and the
inventory entry :func:`llm_target`; then ``DRILLS + INFERENCE_DRILLS`` and
``--only llm-saturated llm-dead llm-hung``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
from faults import Drill

from harness import Env
from tests.harness.llamacpp import LlamaServer, write_tiny_gguf

#: concurrent long streamed requests that hold the server's one slot (llama-cpp-python queues the rest)
SATURATE_REQUESTS = 4
SATURATE_TOKENS = 400


def start_llm(root: Path) -> LlamaServer:
    """A started llama.cpp server under ``root`` (the caller stops it with ``.stop()``)."""
    server = LlamaServer(model=write_tiny_gguf(root / "tiny-random.gguf"), workdir=root)
    server.start()
    return server


def llm_target(server: LlamaServer) -> dict[str, Any]:
    """The inventory entry: an ``inference`` target with a tight TTFT SLO and its restart command.

    Each request's timeout plus the 1 s "is anything answering?" pulse stays under the drills' 4 s
    check budget, so a timed-out request still ends as a verdict (saturated or hung), not as the
    runner's "timed out"."""
    return {"name": "llm", "kind": "inference", "address": server.address,
            "labels": {"model": "tiny", "timeout": "2", "probe_timeout": "2.5", "ttft_slo_ms": "1500",
                       "restart_command": str(server.restart_script()), "log_path": str(server.log)}}


def _llm(env: Env) -> LlamaServer:
    server = getattr(env, "llm", None)
    if not isinstance(server, LlamaServer):
        raise RuntimeError("the drill environment has no llm server (see this module's docstring)")
    return server


def _saturate(env: Env) -> None:
    server = _llm(env)
    stop = threading.Event()

    def hold() -> None:
        # </s> banned: a random-weights model would otherwise stop at a random token and free the slot
        body = {"model": "tiny", "stream": True, "max_tokens": SATURATE_TOKENS, "logit_bias": {"2": -100},
                "messages": [{"role": "user", "content": "write a very long story"}]}
        while not stop.is_set():
            try:
                with httpx.stream("POST", f"http://{server.address}/v1/chat/completions", json=body,
                                  timeout=120) as resp:
                    for _line in resp.iter_lines():
                        if stop.is_set():
                            return
            except httpx.HTTPError:
                return

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(SATURATE_REQUESTS)]
    for t in threads:
        t.start()
    env.held.append(stop)


def _unsaturate(env: Env) -> None:
    for item in list(env.held):
        if isinstance(item, threading.Event):
            item.set()
            env.held.remove(item)


INFERENCE_DRILLS: list[Drill] = [
    Drill("llm-saturated", f"llama.cpp server's slot held by {SATURATE_REQUESTS} long streamed requests "
          "(TTFT over SLO)", "llm", "capacity", _saturate, _unsaturate),
    Drill("llm-dead", "llama.cpp server process stopped (SIGTERM)", "llm", "process",
          lambda e: _llm(e).stop(), lambda e: _llm(e).start(),
          remedy="inference.restart", health_check="inference.health"),
    Drill("llm-hung", "llama.cpp server frozen (SIGSTOP), port still open", "llm", "process",
          lambda e: _llm(e).pause(), lambda e: _llm(e).resume(),
          remedy="inference.restart", health_check="inference.health"),
]

__all__ = ["INFERENCE_DRILLS", "llm_target", "start_llm"]
