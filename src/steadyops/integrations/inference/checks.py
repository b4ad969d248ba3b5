"""Inference-server checks: liveness and readiness, the synthetic chat probe, and what ``/metrics``
says about the queue, the KV cache, TTFT and failed requests.

Labels (defaults): ``ttft_slo_ms`` (2000; CRITICAL at ``ttft_crit_ms``, twice the SLO),
``itl_slo_ms`` (200), ``queue_warn`` / ``queue_crit`` (10 / 50 waiting), ``kv_warn`` / ``kv_crit``
(0.90 / 0.99), ``errors_warn`` / ``errors_crit`` (1 / 20 failed requests since the last check).
"""

from __future__ import annotations

from typing import ClassVar

from steadyops.contracts.checks import grade, label_float
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.inference.base import CRIT, OK, UNKNOWN, WARN, InferenceCheck, unanswered
from steadyops.integrations.inference.client import InferenceUnanswered, get
from steadyops.integrations.inference.flavours import Flavour
from steadyops.integrations.inference.metrics import ServerMetrics, growth, interval_p95
from steadyops.integrations.inference.probe import run_probe

RB_DOWN = "inference/inference-down.en.md"
RB_QUEUE = "vllm/vllm-queue-waiting.en.md"
RB_KV = "vllm/vllm-kv-cache.en.md"
RB_TTFT = "vllm/vllm-ttft.en.md"
RB_ERRORS = "inference/inference-errors.en.md"


class HealthCheck(InferenceCheck):
    """Liveness (the flavour's health path answers 200) and readiness (its models/ready path answers
    200): refused = process down, nothing answering = hung, both CRITICAL; live but not ready, or
    saturated (the path queued behind busy slots while the server answers otherwise) = WARNING, so
    the probe and the queue checks still run and say how bad the wait is."""

    name: ClassVar[str] = "inference.health"
    runbook: ClassVar[str | None] = RB_DOWN
    #: a server that is down or hung is one finding: the scheduler reports the others as blocked by it
    liveness: ClassVar[bool] = True

    async def run(self, target: Target) -> CheckResult:
        try:
            flavour, _m, _h = await self.memory.flavour_and_metrics(target)
            live = await get(target, flavour.health_path)
            ready = live if flavour.ready_path == flavour.health_path else await get(target, flavour.ready_path)
        except InferenceUnanswered as exc:
            return unanswered(exc, busy=WARN)
        evidence = [Evidence(source=f"GET {a.url}", detail=f"HTTP {a.status} in {a.elapsed_ms:g} ms: {a.body[:160]}",
                             value=a.status) for a in (live, ready)]
        metrics = {"live_ms": live.elapsed_ms, "ready_ms": ready.elapsed_ms}
        if live.status != 200:
            return self.result(CRIT, f"{flavour.name} not live: {live.url} answered HTTP {live.status}", evidence,
                               "process", metrics)
        if ready.status != 200:
            return self.result(WARN, f"{flavour.name} live but not ready: {ready.url} answered HTTP {ready.status}",
                               evidence, "process", metrics)
        return self.result(OK, f"{flavour.name} live and ready ({live.elapsed_ms:g} ms)", evidence, "", metrics)


class ProbeCheck(InferenceCheck):
    """拨测: a tiny streamed chat request; TTFT graded against ``ttft_slo_ms``, inter-token latency
    (p95) against ``itl_slo_ms``; no token at all, an HTTP error, refused or hung is CRITICAL."""

    name: ClassVar[str] = "inference.probe"
    runbook: ClassVar[str | None] = RB_TTFT

    async def run(self, target: Target) -> CheckResult:
        try:
            flavour, _m, _h = await self.memory.flavour_and_metrics(target)
            probe = await run_probe(target, flavour)
        except InferenceUnanswered as exc:
            return unanswered(exc)
        metrics = {k: float(v) for k, v in (("ttft_ms", probe.ttft_ms), ("itl_mean_ms", probe.itl_mean_ms),
                                             ("itl_p95_ms", probe.itl_p95_ms), ("tokens_per_s", probe.tokens_per_s),
                                             ("tokens", probe.tokens), ("total_ms", probe.total_ms))
                   if v is not None}
        line = (f"model {probe.model}: HTTP {probe.status}, TTFT {probe.ttft_ms} ms, {probe.tokens} tokens, "
                f"ITL p95 {probe.itl_p95_ms} ms, {probe.tokens_per_s and round(probe.tokens_per_s, 1)} tokens/s, "
                f"total {probe.total_ms} ms, finish {probe.finish_reason or '-'}")
        evidence = [Evidence(source=f"POST {probe.url} (stream)", detail=line + (f"; {probe.error}" if probe.error
                                                                                   else ""))]
        if probe.error or probe.ttft_ms is None:
            return self.result(CRIT, f"probe failed: {probe.error or 'no token'}", evidence, "process", metrics)
        slo = label_float(target, "ttft_slo_ms", 2000)
        status = grade(probe.ttft_ms, slo, label_float(target, "ttft_crit_ms", 2 * slo))
        itl_slo = label_float(target, "itl_slo_ms", 200)
        itl = probe.itl_p95_ms
        if itl is not None and itl >= itl_slo and status is OK:
            status = WARN
        if status is OK:
            return self.result(OK, f"TTFT {probe.ttft_ms:g} ms, {probe.tokens} tokens", evidence, "", metrics)
        what = (f"TTFT {probe.ttft_ms:g} ms over the {slo:g} ms SLO" if probe.ttft_ms >= slo
                else f"inter-token latency p95 {itl:g} ms over {itl_slo:g} ms")
        return self.result(status, what, evidence, "capacity", metrics)


class MetricsCheck(InferenceCheck):
    """Base for the ``/metrics`` checks. A flavour that has none by design (an OpenAI-compatible
    endpoint, Ollama) is not applicable — reported OK and saying so, or every such target would page
    forever; a server that should publish them and does not is UNKNOWN (config)."""

    async def run(self, target: Target) -> CheckResult:
        try:
            flavour, current, history = await self.memory.flavour_and_metrics(target)
        except InferenceUnanswered as exc:
            return unanswered(exc, busy=WARN)
        if current is None and not flavour.has_metrics:
            return self.result(OK, f"not applicable: the {flavour.name} endpoint publishes no Prometheus /metrics "
                               "(liveness and the probe's TTFT still cover it; label flavour to say otherwise)",
                               [Evidence(source="GET /metrics", detail="absent or not a known server's metrics")])
        if current is None:
            return self.result(UNKNOWN, f"the {flavour.name} endpoint publishes no Prometheus /metrics to judge",
                               [Evidence(source="GET /metrics", detail="absent or not a known server's metrics")],
                               "config")
        return self.judge(target, flavour, current, history)

    def judge(self, target: Target, flavour: Flavour, now: ServerMetrics,
              history: list[ServerMetrics]) -> CheckResult:
        raise NotImplementedError


def _tps(a: ServerMetrics, b: ServerMetrics) -> float | None:
    """Generated tokens per second between two readings (b earlier than a)."""
    grown = growth(a.generated_tokens, b.generated_tokens)
    if grown is None or a.at <= b.at:
        return None
    return grown / (a.at - b.at)


def judge_queue(target: Target, now: ServerMetrics, history: list[ServerMetrics]) -> tuple[CheckStatus, str, str]:
    """Pure: (status, summary, layer) from this reading and the earlier ones (newest first)."""
    waiting, running = now.waiting, now.running
    if waiting is None:
        return UNKNOWN, "the server publishes no waiting-queue metric", "config"
    readings = [now, *history]
    if len(readings) >= 3:
        w = [r.waiting for r in readings[:3]]
        rates = [_tps(readings[0], readings[1]), _tps(readings[1], readings[2])]
        if None not in w and w[0] > w[1] > w[2] and None not in rates:  # type: ignore[operator]
            now_tps, before_tps = rates[0] or 0.0, rates[1] or 0.0
            if now_tps <= before_tps * 1.1:
                return CRIT, (f"queue growing while throughput flat: waiting {w[2]:g} → {w[1]:g} → {w[0]:g}, "
                              f"{before_tps:.1f} → {now_tps:.1f} tokens/s"), "capacity"
    if waiting > 0 and running == 0 and history and growth(now.generated_tokens, history[0].generated_tokens) == 0:
        return CRIT, f"{waiting:g} requests waiting, none running, no token generated since the last check", "process"
    status = grade(waiting, label_float(target, "queue_warn", 10), label_float(target, "queue_crit", 50))
    return status, f"{waiting:g} waiting, {running if running is not None else '?'} running", "capacity"


class QueueCheck(MetricsCheck):
    """Requests waiting vs running; CRITICAL when the queue grows across three readings while
    generated tokens/s stays flat (more demand, no more work), or requests wait with none running."""

    name: ClassVar[str] = "inference.queue"
    runbook: ClassVar[str | None] = RB_QUEUE

    def judge(self, target: Target, flavour: Flavour, now: ServerMetrics,
              history: list[ServerMetrics]) -> CheckResult:
        status, summary, layer = judge_queue(target, now, history)
        metrics = {k: v for k, v in (("waiting", now.waiting), ("running", now.running)) if v is not None}
        if history and (tps := _tps(now, history[0])) is not None:
            metrics["tokens_per_s"] = round(tps, 2)
        return self.result(status, summary, [Evidence(source=f"{flavour.name} /metrics", detail=summary)], layer,
                           metrics)


def judge_kv(target: Target, now: ServerMetrics, before: ServerMetrics | None) -> tuple[CheckStatus, str]:
    kv = now.kv_usage
    preempted = growth(now.preemptions, before.preemptions) if before else None
    if kv is None:
        return UNKNOWN, "the server publishes no KV-cache usage metric"
    crit, warn = label_float(target, "kv_crit", 0.99), label_float(target, "kv_warn", 0.90)
    if kv >= crit and preempted:
        return CRIT, f"KV cache at {kv:.0%} with {preempted:g} preemption(s) since the last check"
    if preempted:
        return WARN, f"{preempted:g} preemption(s) since the last check (KV cache {kv:.0%})"
    if kv >= warn:
        return WARN, f"KV cache at {kv:.0%}"
    return OK, f"KV cache at {kv:.0%}"


class KvCacheCheck(MetricsCheck):
    """KV-cache usage; at ``kv_crit`` with preemptions growing is CRITICAL (requests are being
    evicted and recomputed), preemptions alone or usage at ``kv_warn`` is WARNING."""

    name: ClassVar[str] = "inference.kv_cache"
    runbook: ClassVar[str | None] = RB_KV

    def judge(self, target: Target, flavour: Flavour, now: ServerMetrics,
              history: list[ServerMetrics]) -> CheckResult:
        status, summary = judge_kv(target, now, history[0] if history else None)
        metrics = {k: v for k, v in (("kv_usage", now.kv_usage), ("preemptions_total", now.preemptions))
                   if v is not None}
        return self.result(status, summary, [Evidence(source=f"{flavour.name} /metrics", detail=summary)],
                           "capacity", metrics)


class TtftCheck(MetricsCheck):
    """TTFT p95 from the server's own histogram over the interval since the last check (all
    requests, not just the probe's) against ``ttft_slo_ms``."""

    name: ClassVar[str] = "inference.ttft"
    runbook: ClassVar[str | None] = RB_TTFT

    def judge(self, target: Target, flavour: Flavour, now: ServerMetrics,
              history: list[ServerMetrics]) -> CheckResult:
        if not now.ttft_buckets:
            return self.result(UNKNOWN, f"{flavour.name} publishes no TTFT histogram", [], "config")
        p95, count = interval_p95(now.ttft_buckets, history[0].ttft_buckets if history else None)
        slo = label_float(target, "ttft_slo_ms", 2000)
        if p95 is None:
            return self.result(OK, "no request since the last check", [], "", {"requests": count})
        ms = p95 * 1000
        status = grade(ms, slo, label_float(target, "ttft_crit_ms", 2 * slo))
        at_least = "≥ " if flavour.ttft_lower_bound else ""
        summary = f"TTFT p95 {at_least}{ms:.0f} ms over {count:g} request(s) (SLO {slo:g} ms)"
        if status is not OK:
            summary = f"TTFT p95 over SLO: {at_least}{ms:.0f} ms > {slo:g} ms over {count:g} request(s)"
        if flavour.ttft_lower_bound:
            summary += f"; {flavour.name} publishes time in queue, not TTFT: a lower bound"
        return self.result(status, summary, [Evidence(source=f"{flavour.name} /metrics TTFT histogram",
                                                      detail=summary)], "capacity",
                           {"ttft_p95_ms": round(ms, 1), "requests": count})


class ErrorsCheck(MetricsCheck):
    """Failed requests since the last check (vLLM aborts, TGI failures, Triton failures …) against
    ``errors_warn`` / ``errors_crit``; the first check only records the count."""

    name: ClassVar[str] = "inference.errors"
    runbook: ClassVar[str | None] = RB_ERRORS

    def judge(self, target: Target, flavour: Flavour, now: ServerMetrics,
              history: list[ServerMetrics]) -> CheckResult:
        if now.errors is None:
            return self.result(UNKNOWN, f"{flavour.name} publishes no failed-request counter", [], "config")
        if not history:
            return self.result(OK, f"{now.errors:g} failed request(s) since start (first reading)", [], "",
                               {"errors_total": now.errors})
        grown = growth(now.errors, history[0].errors) or 0.0
        status = grade(grown, label_float(target, "errors_warn", 1), label_float(target, "errors_crit", 20))
        summary = f"{grown:g} failed request(s) since the last check"
        return self.result(status, summary, [Evidence(source=f"{flavour.name} /metrics", detail=summary)], "process",
                           {"errors": grown, "errors_total": now.errors})


CHECKS: tuple[type[InferenceCheck], ...] = (HealthCheck, ProbeCheck, QueueCheck, KvCacheCheck, TtftCheck, ErrorsCheck)

__all__ = ["CHECKS", "ErrorsCheck", "HealthCheck", "KvCacheCheck", "ProbeCheck", "QueueCheck", "TtftCheck",
           "judge_kv", "judge_queue"]
