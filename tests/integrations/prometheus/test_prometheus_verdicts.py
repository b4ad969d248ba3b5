"""Prometheus verdicts on API answers captured from a real Prometheus 2.42 (see data/): one job
scraping a closed port, and an alerting rule that cannot evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.prometheus import checks
from steadyops.integrations.prometheus.base import PrometheusUnanswered, base_url, scrape_layer

DATA = Path(__file__).parent / "data"
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def data(name: str) -> Any:
    return json.loads((DATA / name).read_text())["data"]


def answering(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any]) -> None:
    async def fake(target: Target, path: str, params: dict[str, str] | None = None) -> Any:
        answer = answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(checks, "api", fake)


TARGET = Target(name="prom", kind="prometheus", address="10.0.0.3:9090")


async def test_a_job_entirely_down_is_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, {"/api/v1/targets": data("targets_one_job_down.json")})
    result = await checks.TargetsCheck().run(TARGET)
    assert result.status is CRIT and result.layer == "process"
    assert result.summary.startswith("1/2 target(s) down: dead 1/1") and "entirely down: dead" in result.summary
    assert "connection refused" in result.evidence[0].detail
    assert result.metrics == {"targets": 2, "targets_down": 1, "targets_up": 1}


async def test_some_targets_of_a_job_down_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    found = data("targets_one_job_down.json")
    down = next(t for t in found["activeTargets"] if t["health"] == "down")
    up = next(t for t in found["activeTargets"] if t["health"] == "up")
    answering(monkeypatch, {"/api/v1/targets": {"activeTargets": [down, {**up, "scrapePool": "dead"}]}})
    result = await checks.TargetsCheck().run(TARGET)
    assert result.status is WARN and "dead 1/2" in result.summary


async def test_failing_alerting_rule_is_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, {"/api/v1/rules": data("rules_alerting_rule_failing.json")})
    result = await checks.RulesCheck().run(TARGET)
    assert result.status is CRIT and result.layer == "config"
    assert "alerting rule rules.yml:it/Broken: vector cannot contain metrics with the same labelset" in result.summary
    assert result.metrics["rules_failing"] == 1 and result.metrics["rules"] == 2


async def test_slow_group_is_a_capacity_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    groups = {"groups": [{"name": "heavy", "file": "/etc/prometheus/heavy.yml", "interval": 15, "evaluationTime": 22.5,
                          "rules": [{"name": "x", "type": "recording", "health": "ok", "lastError": ""}]}]}
    answering(monkeypatch, {"/api/v1/rules": groups})
    result = await checks.RulesCheck().run(TARGET)
    assert result.status is WARN and result.layer == "capacity" and "slower than their interval" in result.summary


async def test_unreachable_api_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, {"/api/v1/rules": PrometheusUnanswered("process", "GET /api/v1/rules: connection refused")})
    result = await checks.RulesCheck().run(TARGET)
    assert result.status is UNKNOWN and result.layer == "process"


def test_scrape_errors_and_urls() -> None:
    assert scrape_layer('Get "http://h:9100/metrics": dial tcp h:9100: connect: connection refused') == "process"
    assert scrape_layer('Get "http://h:9100/metrics": context deadline exceeded') == "network"
    assert scrape_layer("server returned HTTP status 404 Not Found") == "config"
    assert base_url(TARGET) == "http://10.0.0.3:9090"
    assert base_url(Target(name="t", kind="prometheus", labels={"url": "https://thanos/"})) == "https://thanos"
