"""Inference-server `/metrics` parsing and verdicts on real published output (samples/README.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.inference import checks
from steadyops.integrations.inference.flavours import FLAVOURS, detect
from steadyops.integrations.inference.metrics import ServerMetrics, interval_p95, read_metrics
from steadyops.integrations.inference.restarts import scan_log
from steadyops.sources.exposition import by_name, histogram_quantile, parse_exposition

SAMPLES = Path(__file__).parent / "samples"
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def sglang() -> ServerMetrics:
    text = (SAMPLES / "sglang-production-metrics.prom").read_text()
    flavour = detect(text)
    assert flavour is not None and flavour.name == "sglang"
    return read_metrics(text, flavour, at=1000.0)


def target(**labels: str) -> Target:
    return Target(name="llm-1", kind="inference", address="127.0.0.1:30000", labels=labels)


def test_sglang_sample_read_through_the_flavour_table() -> None:
    m = sglang()
    assert (m.running, m.waiting, m.kv_usage, m.generated_tokens) == (162.0, 2826.0, 0.28, 7.557572e06)
    assert m.ttft_count == 11008.0 and m.ttft_p95_s == 30.0  # most requests land in +Inf: capped at 30 s
    assert m.tpot_p95_s is not None and 0.1 < m.tpot_p95_s < 0.15


def test_vllm_sample_old_names() -> None:
    text = (SAMPLES / "vllm-windows-rtx3090.prom").read_text()
    flavour = detect(text)
    assert flavour is FLAVOURS["vllm"]
    m = read_metrics(text, flavour)
    assert m.kv_usage == pytest.approx(0.38849487785658) and m.waiting is None  # gpu_cache_usage_perc fallback


def test_histogram_quantile_like_prometheus() -> None:
    buckets = [(0.1, 10.0), (0.5, 60.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.42)  # 0.1 + 0.4 × 40/50
    assert histogram_quantile(0.95, [(1.0, 0.0), (float("inf"), 0.0)]) is None


def test_interval_p95_uses_only_new_observations() -> None:
    before = [(0.1, 100.0), (1.0, 100.0), (10.0, 100.0), (float("inf"), 100.0)]
    now = [(0.1, 100.0), (1.0, 100.0), (10.0, 150.0), (float("inf"), 150.0)]
    p95, count = interval_p95(now, before)
    assert count == 50.0 and p95 is not None and 1.0 < p95 <= 10.0
    assert interval_p95(before, now)[0] == histogram_quantile(0.95, before)  # counts went down: restarted


def test_queue_verdicts_on_the_real_reading() -> None:
    m = sglang()
    status, summary, layer = checks.judge_queue(target(), m, [])
    assert status is CRIT and "2826 waiting, 162.0 running" in summary and layer == "capacity"
    assert checks.judge_queue(target(queue_crit="5000", queue_warn="4000"), m, [])[0] is OK


def test_queue_growing_while_throughput_flat() -> None:
    m = sglang()
    older = dataclasses.replace(m, at=880.0, waiting=2000.0, generated_tokens=m.generated_tokens - 2 * 6000)
    old = dataclasses.replace(m, at=940.0, waiting=2400.0, generated_tokens=m.generated_tokens - 6000)
    status, summary, _layer = checks.judge_queue(target(queue_crit="1e9", queue_warn="1e9"), m, [old, older])
    assert status is CRIT and summary.startswith("queue growing while throughput flat") and "100.0 → 100.0" in summary
    rising = dataclasses.replace(older, generated_tokens=m.generated_tokens - 6000 - 1000)
    assert checks.judge_queue(target(queue_crit="1e9", queue_warn="1e9"), m, [old, rising])[0] is OK


def test_kv_cache_full_with_preemptions() -> None:
    m = dataclasses.replace(sglang(), kv_usage=1.0, preemptions=40.0)
    before = dataclasses.replace(m, preemptions=12.0)
    status, summary = checks.judge_kv(target(), m, before)
    assert status is CRIT and summary == "KV cache at 100% with 28 preemption(s) since the last check"
    assert checks.judge_kv(target(), sglang(), None)[0] is OK


def test_ttft_p95_over_slo_on_the_real_reading() -> None:
    result = checks.TtftCheck().judge(target(), FLAVOURS["sglang"], sglang(), [])
    assert result.status is CRIT and result.summary.startswith("TTFT p95 over SLO: 30000 ms > 2000 ms")


def test_log_scan_finds_cuda_oom_and_crashes() -> None:
    log = ("INFO 05-01 12:00:01 engine.py:100] started\n"
           "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of"
           " 79.15 GiB of which 1.02 GiB is free.\n"
           "Traceback (most recent call last):\n")
    oom, crash = scan_log(log)
    assert len(oom) == 1 and "Tried to allocate 2.00 GiB" in oom[0] and crash == ["Traceback (most recent call last):"]


def read_sample(name: str, flavour: str) -> ServerMetrics:
    text = (SAMPLES / name).read_text()
    detected = detect(text)
    assert detected is FLAVOURS[flavour]
    return read_metrics(text, detected, at=1000.0)


def test_counters_keep_the_name_the_server_wrote() -> None:
    """prometheus_client spells ``tgi_request_failure`` as ``tgi_request_failure_total``; the server
    never does, and the flavour tables use the wire names."""
    samples = by_name(parse_exposition((SAMPLES / "tgi-3.3.5-datadog-payload.prom").read_text()))
    assert [(s.labels, s.value) for s in samples["tgi_request_failure"]] == [({"err": "validation"}, 2.0)]
    assert samples["tgi_request_count"][0].value == 111.0 and "tgi_request_count_total" not in samples
    triton = by_name(parse_exposition((SAMPLES / "triton-t4-sonic-result2.prom").read_text()))
    assert sum(s.value for s in triton["nv_inference_request_success"]) == 303.0
    assert "nv_inference_request_failure_total" not in triton
    sglang = by_name(parse_exposition((SAMPLES / "sglang-production-metrics.prom").read_text()))
    assert sglang["sglang:generation_tokens_total"][0].value == 7.557572e06  # a name already ending _total


def test_tgi_sample_read_through_the_flavour_table() -> None:
    m = read_sample("tgi-3.3.5-datadog-payload.prom", "tgi")
    assert (m.running, m.waiting, m.generated_tokens, m.kv_usage) == (0.0, 0.0, 3423.0, None)
    assert m.errors == 0.0  # the 2 failures are err="validation": the caller's, not the server's
    # time in queue: rank 103.55 of 109 falls between le=3.787675244106352 (81) and 5.681512866159528 (107)
    assert m.ttft_count == 109.0 and m.ttft_p95_s == pytest.approx(
        3.787675244106352 + (5.681512866159528 - 3.787675244106352) * (0.95 * 109 - 81) / (107 - 81))
    # mean time per token: 9 requests ≤ 0.0657 s, all 109 ≤ 0.0985 s
    assert m.tpot_p95_s == pytest.approx(
        0.0656840835571289 + (0.09852612533569335 - 0.0656840835571289) * (0.95 * 109 - 9) / (109 - 9))


def test_tgi_verdicts_on_the_real_reading() -> None:
    m = read_sample("tgi-3.3.5-datadog-payload.prom", "tgi")
    tgi = FLAVOURS["tgi"]
    assert checks.judge_queue(target(), m, [])[:2] == (OK, "0 waiting, 0.0 running")
    ttft = checks.TtftCheck().judge(target(), tgi, m, [])
    assert ttft.status is CRIT and ttft.summary == (
        "TTFT p95 over SLO: ≥ 5430 ms > 2000 ms over 109 request(s); tgi publishes time in queue, not TTFT:"
        " a lower bound")
    assert checks.TtftCheck().judge(target(ttft_slo_ms="6000"), tgi, m, []).status is OK
    errors = checks.ErrorsCheck().judge(target(), tgi, m, [])
    assert errors.status is OK and errors.summary == "0 failed request(s) since start (first reading)"
    assert checks.KvCacheCheck().judge(target(), tgi, m, []).status is UNKNOWN  # TGI publishes no KV usage


def test_triton_sample_read_through_the_flavour_table() -> None:
    m = read_sample("triton-t4-sonic-result2.prom", "triton")
    assert m.errors == 0.0 and m.waiting is None  # this release predates nv_inference_pending_request_count
    triton = FLAVOURS["triton"]
    status, summary, layer = checks.judge_queue(target(), m, [])
    assert (status, layer) == (UNKNOWN, "config") and "no waiting-queue metric" in summary
    assert checks.ErrorsCheck().judge(target(), triton, m, []).status is OK
    later = dataclasses.replace(m, at=1060.0, errors=25.0)
    grown = checks.ErrorsCheck().judge(target(), triton, later, [m])
    assert grown.status is CRIT and grown.summary == "25 failed request(s) since the last check"
