"""Read-only Prometheus snapshots (also agent tools): targets by health, failing rules, firing
alerts, build and TSDB head facts. Failures come back as data (``ok: false`` + layer).
"""

from __future__ import annotations

from typing import Any, ClassVar

from steadyops.contracts.collectors import GatheringCollector
from steadyops.core.inventory import Target
from steadyops.integrations.prometheus.base import TARGET_KIND, PrometheusUnanswered, api


class _PromCollector(GatheringCollector):
    target_kind: ClassVar[str] = TARGET_KIND
    unanswered: ClassVar[tuple[type[Exception], ...]] = (PrometheusUnanswered,)


class TargetsCollector(_PromCollector):
    name: ClassVar[str] = "prometheus.scrape_targets"
    description: ClassVar[str] = ("Prometheus scrape targets: counts by job and health, and every down target with "
                                  "its scrape URL, last error and last scrape time")

    async def gather(self, target: Target) -> dict[str, Any]:
        data = await api(target, "/api/v1/targets", {"state": "active"})
        jobs: dict[str, dict[str, int]] = {}
        down = []
        for t in data.get("activeTargets") or []:
            job = str(t.get("scrapePool"))
            jobs.setdefault(job, {}).setdefault(str(t.get("health")), 0)
            jobs[job][str(t.get("health"))] += 1
            if t.get("health") == "down":
                down.append({k: t.get(k) for k in ("scrapePool", "scrapeUrl", "lastError", "lastScrape", "labels")})
        return {"jobs": jobs, "down": down[:50]}


class RulesCollector(_PromCollector):
    name: ClassVar[str] = "prometheus.rule_groups"
    description: ClassVar[str] = ("Prometheus rule groups: interval and evaluation time per group, and every rule "
                                  "that failed its last evaluation with the error")

    async def gather(self, target: Target) -> dict[str, Any]:
        data = await api(target, "/api/v1/rules")
        groups = []
        for g in data.get("groups") or []:
            bad = [{"name": r.get("name"), "type": r.get("type"), "health": r.get("health"),
                    "lastError": r.get("lastError"), "query": str(r.get("query"))[:300]}
                   for r in g.get("rules") or [] if r.get("health") != "ok"]
            groups.append({"name": g.get("name"), "file": g.get("file"), "interval": g.get("interval"),
                           "evaluationTime": g.get("evaluationTime"), "rules": len(g.get("rules") or []),
                           "not_ok": bad})
        return {"groups": groups}


class AlertsCollector(_PromCollector):
    name: ClassVar[str] = "prometheus.alerts"
    description: ClassVar[str] = "Alerts Prometheus currently has pending or firing: labels, state, since when, value"

    async def gather(self, target: Target) -> dict[str, Any]:
        data = await api(target, "/api/v1/alerts")
        alerts = data.get("alerts") or []
        return {"count": len(alerts), "alerts": [{k: a.get(k) for k in ("labels", "state", "activeAt", "value")}
                                                 for a in alerts[:100]]}


class StatusCollector(_PromCollector):
    name: ClassVar[str] = "prometheus.status"
    description: ClassVar[str] = ("Prometheus build and runtime facts: version, start time, config reload status, "
                                  "storage retention, TSDB head series and chunks")

    async def gather(self, target: Target) -> dict[str, Any]:
        build = await api(target, "/api/v1/status/buildinfo")
        runtime = await api(target, "/api/v1/status/runtimeinfo")
        try:
            tsdb = (await api(target, "/api/v1/status/tsdb")).get("headStats")
        except PrometheusUnanswered:
            tsdb = None  # not served by every Prometheus-compatible backend
        return {"build": build, "runtime": runtime, "head": tsdb}


COLLECTORS: tuple[type[_PromCollector], ...] = (TargetsCollector, RulesCollector, AlertsCollector, StatusCollector)
