"""Prometheus checks: ready, scrape targets down, rule groups failing or too slow.

Target: kind ``prometheus``, address ``host:port`` (or label ``url``); labels ``user`` (basic
auth; otherwise the credential is a bearer token), ``timeout``, ``tls_verify`` / ``ca_file``, and
the thresholds named below.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any, ClassVar

import httpx

from steadyops.contracts.checks import label_float, worst
from steadyops.core.credentials import CredentialError
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.prometheus.base import PromCheck, api, base_url, client, scrape_layer
from steadyops.sources.probing import locate_http_error

OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
RB_TARGETS = "prometheus/prometheus-targets-down.en.md"
RB_RULES = "prometheus/prometheus-rule-failures.en.md"


class ReadyCheck(PromCheck):
    """``/-/ready``: refused is Prometheus down (CRITICAL, process); 503 is still replaying its WAL."""

    name: ClassVar[str] = "prometheus.ready"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_TARGETS

    async def judge(self, target: Target) -> CheckResult:
        url = base_url(target) + "/-/ready"
        t0 = time.monotonic()
        try:
            async with client(target) as http:
                resp = await http.get("/-/ready")
        except CredentialError as exc:
            return CheckResult(status=CheckStatus.UNKNOWN, summary=str(exc), layer="config")
        except httpx.HTTPError as exc:
            layer, what = locate_http_error(exc)
            return self.result(CRIT, f"Prometheus at {url} does not answer: {what}",
                               [Evidence(source=f"GET {url}", detail=what)], layer)
        ms = round((time.monotonic() - t0) * 1000, 1)
        evidence = [Evidence(source=f"GET {url}", detail=f"HTTP {resp.status_code}: {resp.text.strip()[:120]}")]
        if resp.status_code == 200:
            return self.result(OK, f"ready ({ms:g} ms)", evidence, "", {"ready_ms": ms})
        if resp.status_code == 503:
            return self.result(WARN, "not ready yet (starting, replaying the WAL)", evidence, "process")
        return self.result(CRIT, f"/-/ready answered HTTP {resp.status_code}", evidence, "process")


class TargetsCheck(PromCheck):
    """Active scrape targets whose last scrape failed. A job with every target down (label
    ``job_down_crit_pct``, default 100) is CRITICAL: nothing about that service is being watched."""

    name: ClassVar[str] = "prometheus.targets"
    runbook: ClassVar[str | None] = RB_TARGETS

    async def judge(self, target: Target) -> CheckResult:
        data: dict[str, Any] = await api(target, "/api/v1/targets", {"state": "active"})
        active: list[dict[str, Any]] = data.get("activeTargets") or []
        per_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for t in active:
            per_job[str(t.get("scrapePool") or t.get("labels", {}).get("job", "?"))].append(t)
        down = [t for t in active if t.get("health") == "down"]
        metrics = {"targets": float(len(active)), "targets_down": float(len(down)),
                   "targets_up": float(sum(1 for t in active if t.get("health") == "up"))}
        if not down:
            return self.result(OK, f"{len(active)} active target(s) in {len(per_job)} job(s), none down",
                               [Evidence(source="GET /api/v1/targets?state=active",
                                         detail=", ".join(f"{j}={len(ts)}" for j, ts in sorted(per_job.items()))
                                         or "(no targets)")], "", metrics)
        crit_pct = label_float(target, "job_down_crit_pct", 100)
        blind = sorted(job for job, ts in per_job.items()
                       if 100 * sum(1 for t in ts if t.get("health") == "down") / len(ts) >= crit_pct)
        evidence = [Evidence(source="GET /api/v1/targets?state=active",
                             detail=f"{t.get('scrapePool')} {t.get('scrapeUrl')}: {str(t.get('lastError'))[:200]} "
                                    f"(last scrape {t.get('lastScrape', '?')})") for t in down[:8]]
        layers = Counter(scrape_layer(str(t.get("lastError") or "")) for t in down)
        jobs_down = Counter(str(t.get("scrapePool")) for t in down)
        summary = f"{len(down)}/{len(active)} target(s) down: " + ", ".join(
            f"{job} {n}/{len(per_job[job])}" for job, n in jobs_down.most_common(5))
        if blind:
            summary += f"; job(s) entirely down: {', '.join(blind)}"
        return self.result(CRIT if blind else WARN, summary, evidence, layers.most_common(1)[0][0], metrics)


class RulesCheck(PromCheck):
    """Rules whose last evaluation failed (an alerting rule that errors never fires: CRITICAL; a
    recording rule: WARNING) and rule groups slower than their interval (evaluations skipped)."""

    name: ClassVar[str] = "prometheus.rules"
    runbook: ClassVar[str | None] = RB_RULES

    async def judge(self, target: Target) -> CheckResult:
        data: dict[str, Any] = await api(target, "/api/v1/rules")
        groups: list[dict[str, Any]] = data.get("groups") or []
        failing: list[tuple[CheckStatus, str]] = []
        slow: list[str] = []
        n_rules = 0
        slow_ratio = label_float(target, "group_slow_ratio", 1.0)
        for g in groups:
            gname = f"{g.get('file', '?').rsplit('/', 1)[-1]}:{g.get('name', '?')}"
            interval, took = float(g.get("interval") or 0), float(g.get("evaluationTime") or 0)
            if interval and took >= interval * slow_ratio:
                slow.append(f"{gname} took {took:.1f}s of its {interval:g}s interval")
            for r in g.get("rules") or []:
                n_rules += 1
                if r.get("health") == "err" or r.get("lastError"):
                    kind = "alerting" if r.get("type") == "alerting" else "recording"
                    rname = r.get("name") or r.get("alert") or "?"
                    failing.append((CRIT if kind == "alerting" else WARN,
                                    f"{kind} rule {gname}/{rname}: {str(r.get('lastError') or 'health=err')[:200]}"))
        metrics = {"rule_groups": float(len(groups)), "rules": float(n_rules), "rules_failing": float(len(failing)),
                   "groups_slow": float(len(slow))}
        evidence = [Evidence(source="GET /api/v1/rules", detail=msg) for _, msg in failing[:6]]
        evidence += [Evidence(source="GET /api/v1/rules (evaluationTime)", detail=msg) for msg in slow[:3]]
        if not failing and not slow:
            return self.result(OK, f"{n_rules} rule(s) in {len(groups)} group(s) evaluate without error",
                               [Evidence(source="GET /api/v1/rules", detail=f"{len(groups)} groups, {n_rules} rules")],
                               "", metrics)
        status = worst(*(s for s, _ in failing), *([WARN] if slow else []))
        parts = []
        if failing:
            parts.append(f"{len(failing)} rule(s) failing to evaluate; first: {failing[0][1]}")
        if slow:
            parts.append(f"{len(slow)} group(s) slower than their interval")
        return self.result(status, "; ".join(parts), evidence, "config" if failing else "capacity", metrics)


CHECKS: tuple[type[PromCheck], ...] = (ReadyCheck, TargetsCheck, RulesCheck)
