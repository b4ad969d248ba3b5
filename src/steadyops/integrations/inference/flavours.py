"""Each inference server's names for the same facts (the one table the checks read through).

Servers publish the same questions under different names: the waiting queue is
``vllm:num_requests_waiting``, ``sglang:num_queue_reqs``, ``tgi_queue_size``,
``llamacpp:requests_deferred`` and ``nv_inference_pending_request_count``. A flavour lists, per
fact, the metric names in order of preference (newer names first), plus the liveness and readiness
paths. ``openai`` is any OpenAI-compatible endpoint without ``/metrics`` (llama-cpp-python's
server, Ollama's ``/v1``, a gateway): it gets liveness, readiness and the synthetic probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Flavour:
    name: str
    health_path: str
    ready_path: str
    running: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    #: KV-cache usage as a ratio 0..1
    kv_usage: tuple[str, ...] = ()
    preemptions: tuple[str, ...] = ()
    #: counters of failed requests; ``errors_label`` narrows to the failing label values
    errors: tuple[str, ...] = ()
    errors_label: tuple[str, frozenset[str]] | None = None
    generated_tokens: tuple[str, ...] = ()
    ttft_hist: tuple[str, ...] = ()
    #: the TTFT histogram measures only part of TTFT (time in queue): its quantiles are lower bounds
    ttft_lower_bound: bool = False
    tpot_hist: tuple[str, ...] = ()
    #: where the OpenAI-compatible chat API lives, relative to the target's base URL
    chat_path: str = "/v1/chat/completions"
    has_metrics: bool = True
    markers: tuple[str, ...] = field(default=())


FLAVOURS: dict[str, Flavour] = {f.name: f for f in (
    Flavour("vllm", "/health", "/v1/models",
            running=("vllm:num_requests_running",), waiting=("vllm:num_requests_waiting",),
            kv_usage=("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
            preemptions=("vllm:num_preemptions_total",),
            errors=("vllm:request_success_total",), errors_label=("finished_reason", frozenset({"abort", "error"})),
            generated_tokens=("vllm:generation_tokens_total",),
            ttft_hist=("vllm:time_to_first_token_seconds",),
            tpot_hist=("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
            markers=("vllm:",)),
    Flavour("sglang", "/health", "/v1/models",
            running=("sglang:num_running_reqs",), waiting=("sglang:num_queue_reqs",), kv_usage=("sglang:token_usage",),
            preemptions=("sglang:num_retracted_reqs", "sglang:num_preemptions_total"),
            errors=("sglang:num_aborted_requests_total",),
            generated_tokens=("sglang:generation_tokens_total",),
            ttft_hist=("sglang:time_to_first_token_seconds",),
            tpot_hist=("sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"),
            markers=("sglang:",)),
    # TGI counts every failed request under ``err``; validation, template and tool errors are the
    # caller's (HTTP 4xx), so only the server-side kinds count. It has no TTFT histogram: time in
    # the queue is the part of TTFT that grows under load, so its p95 is reported as a lower bound.
    Flavour("tgi", "/health", "/info",
            running=("tgi_batch_current_size",), waiting=("tgi_queue_size",),
            errors=("tgi_request_failure",),
            errors_label=("err", frozenset({"generation", "overloaded", "incomplete_generation"})),
            generated_tokens=("tgi_request_generated_tokens_sum",),
            ttft_hist=("tgi_request_queue_duration",), ttft_lower_bound=True,
            tpot_hist=("tgi_request_mean_time_per_token_duration",),
            markers=("tgi_",)),
    Flavour("llama.cpp", "/health", "/v1/models",
            running=("llamacpp:requests_processing",), waiting=("llamacpp:requests_deferred",),
            kv_usage=("llamacpp:kv_cache_usage_ratio",), generated_tokens=("llamacpp:tokens_predicted_total",),
            markers=("llamacpp:",)),
    Flavour("triton", "/v2/health/live", "/v2/health/ready",
            waiting=("nv_inference_pending_request_count",), errors=("nv_inference_request_failure",),
            chat_path="", markers=("nv_inference_",)),
    Flavour("ollama", "/", "/api/tags", has_metrics=False),
    Flavour("openai", "/v1/models", "/v1/models", has_metrics=False),
)}


def detect(metrics_text: str) -> Flavour | None:
    """The flavour whose metric prefix appears in a ``/metrics`` body (first match), else None."""
    for flavour in FLAVOURS.values():
        if flavour.markers and any(m in metrics_text for m in flavour.markers):
            return flavour
    return None


__all__ = ["FLAVOURS", "Flavour", "detect"]
