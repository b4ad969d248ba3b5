"""`steadyops do "GPU巡检"` / `"推理服务检测"`: the GPU and model-server phrases of the grammar (issue 14)."""

from __future__ import annotations

import pytest

from steadyops.agent.commands import Grammar
from steadyops.plugins import load_plugins

parse = Grammar.from_registry(load_plugins(entry_points_too=False)).parse  # the built-ins' words


@pytest.mark.parametrize(("text", "kind", "target"), [
    ("GPU巡检", "gpu", None), ("gpu巡检 all", "gpu", "all"), ("巡检 显卡", "gpu", None),
    ("推理服务检测", "inference", None), ("推理服务检测 llm-1", "inference", "llm-1"),
    ("巡检 vllm", "inference", None), ("inspect llama.cpp 10.0.0.7:8080", "inference", "10.0.0.7:8080"),
])
def test_gpu_and_inference_phrases(text: str, kind: str, target: str | None) -> None:
    cmd = parse(text)
    assert (cmd.intent, cmd.kind, cmd.target) == ("inspect", kind, target)
