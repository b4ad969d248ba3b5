"""The report model and its renderers, pure: findings in, Markdown / HTML out, in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from steadyops.core.i18n import Lang, t
from steadyops.core.models import CheckStatus, Evidence, Finding
from steadyops.reports import InspectionReport, build_report, diff_runs, exit_code, render, render_html, render_markdown
from steadyops.reports.charts import fmt_number, sparkline, status_strip, text_sparkline
from steadyops.reports.inspection import ChangeKind, HistoryPoint, ReportSection

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
RUNBOOK_URL = "https://runbooks.example.com/redis/memory"
OK, WARN, CRIT, UNK = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def finding(check: str, target: str, status: CheckStatus, kind: str = "redis", **kw: object) -> Finding:
    data: dict[str, object] = {"summary": f"{check} says {status.value}", "layer": "process",
                               "metrics": {"used_pct": 50.0}, "started_at": T0}
    data.update(kw)
    return Finding(check=check, target=target, target_kind=kind, status=status, **data)


def sample(now: CheckStatus = CRIT, before: CheckStatus | None = OK) -> InspectionReport:
    current = [
        finding("redis.memory", "r1", now, runbook=RUNBOOK_URL,
                evidence=[Evidence(source="INFO memory", detail="used_memory:990\nmaxmemory:1000")]),
        finding("redis.ping", "r1", OK),
        finding("redis.ping", "r2", OK),
        finding("host.disk", "h1", WARN, kind="host", layer="disk", runbook="host/host-disk-full.en.md",
                summary="/data at 91% <script>alert(1)</script> | piped"),
    ]
    diff = None
    if before is not None:
        previous = [finding("redis.memory", "r1", before), finding("redis.ping", "r1", OK),
                    finding("redis.ping", "r2", OK), finding("host.disk", "h1", WARN, kind="host")]
        diff = diff_runs(current, previous, previous_run_id=6, previous_started_at=T0 - timedelta(days=1))
    history = [HistoryPoint(check="redis.memory", target="r1", status=s, started_at=T0 - timedelta(hours=3 - i),
                            metrics={"used_pct": 60.0 + 10 * i}) for i, s in enumerate([OK, OK, before or OK, now])]
    return build_report(current, started_at=T0, run_id=7, finished_at=T0 + timedelta(seconds=4), trigger="cli",
                        scope={"kinds": ["redis", "host"], "targets": [], "checks": []}, diff=diff, history=history,
                        addresses={"r1": "10.0.0.7:6379"})


def test_model_groups_worst_first_and_counts() -> None:
    report = sample()
    assert report.status is CRIT
    assert report.counts == {"critical": 1, "warning": 1, "unknown": 0, "ok": 2}
    assert [f.check for f in report.findings][:2] == ["redis.memory", "host.disk"]
    assert [g.target for g in report.targets] == ["r1", "h1", "r2"]
    assert report.targets[0].address == "10.0.0.7:6379"
    assert [(k.kind, k.status) for k in report.kinds] == [("redis", CRIT), ("host", WARN)]
    assert report.history_for("redis.memory", "r1") == [OK, OK, OK, CRIT]
    (series,) = report.trends
    assert series.values == [60.0, 70.0, 80.0, 90.0] and series.status is CRIT


def test_empty_run_is_unknown_never_ok() -> None:
    report = build_report([], started_at=T0)
    assert report.status is UNK
    assert exit_code(report.status) == 2


@pytest.mark.parametrize(("status", "code"), [(OK, 0), (WARN, 1), (CRIT, 2), (UNK, 2)])
def test_exit_codes(status: CheckStatus, code: int) -> None:
    assert exit_code(status) == code


def test_diff_categories() -> None:
    current = [finding("a", "x", CRIT), finding("b", "x", OK), finding("c", "x", WARN), finding("d", "x", CRIT),
               finding("e", "x", OK), finding("new", "x", UNK)]
    previous = [finding("a", "x", OK), finding("b", "x", CRIT), finding("c", "x", WARN), finding("d", "x", WARN),
                finding("e", "x", OK), finding("gone", "x", CRIT)]
    diff = diff_runs(current, previous, previous_run_id=1, previous_started_at=T0)
    kinds = {c.check: c.kind for c in diff.changes}
    assert kinds == {"a": ChangeKind.NEW_FAILURE, "b": ChangeKind.RECOVERED, "c": ChangeKind.STILL_FAILING,
                     "d": ChangeKind.CHANGED, "new": ChangeKind.NEW_FAILURE, "gone": ChangeKind.GONE}
    assert diff.unchanged_ok == 1 and diff.interesting
    assert [c.check for c in diff.of("new_failure")] == ["a", "new"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_shows_new_failure_then_recovery(lang: Lang) -> None:
    failing = render_markdown(sample(now=CRIT, before=OK), lang)
    assert failing.startswith(f"# {t('report.title', lang, id=7)}\n")
    assert f"### {t('report.change.new_failure', lang)} (1)" in failing
    assert f"| redis.memory | r1 | {t('check.status.ok', lang)} | {t('check.status.critical', lang)} |" in failing
    assert t("report.change.recovered", lang) not in failing
    assert "10.0.0.7:6379" in failing
    assert f"| {text_sparkline([60, 70, 80, 90])} |" in failing
    assert f"<{RUNBOOK_URL}>" in failing
    runbook = "host/host-disk-full.zh.md" if lang == "zh" else "host/host-disk-full.en.md"
    assert f"`{runbook}`" in failing
    # untrusted text cannot break the table or become live HTML
    assert "&lt;script&gt;" in failing and "<script>" not in failing and "\\| piped" in failing

    recovered = render_markdown(sample(now=OK, before=CRIT), lang)
    assert f"### {t('report.change.recovered', lang)} (1)" in recovered
    assert t("report.change.new_failure", lang) not in recovered

    first = render_markdown(sample(before=None), lang)
    assert t("report.first_run", lang) in first


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_is_one_self_contained_file(lang: Lang) -> None:
    html = render_html(sample(), lang)
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert html.count("<html") == 1 and html.count("<style>") == 1
    assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in html
    for forbidden in ("<script", "<link", "<img", "<iframe", "src=", "@import", "url("):
        assert forbidden not in html.lower(), forbidden
    urls = re.findall(r"https?://[^\s\"'<>)]+", html)
    assert urls and set(urls) == {RUNBOOK_URL}  # the only external reference is the runbook link
    assert html.count("<svg") >= 4  # status bar, kind bars, status strips, sparkline
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert t("report.change.new_failure", lang) in html and t("report.problems", lang) in html
    assert t("check.status.critical", lang) in html


def test_html_diff_sections_follow_the_status() -> None:
    assert "已恢复" in render_html(sample(now=OK, before=CRIT), "zh")
    assert "Recovered" not in render_html(sample(now=CRIT, before=OK), "en")


def test_sections_are_shown_in_the_readers_language() -> None:
    section = ReportSection(key="zookeeper", status=CRIT, title={"zh": "定位", "en": "Localisation"},
                            body={"zh": "- zk1：进程故障", "en": "- zk1: process down"})
    report = sample().model_copy(update={"sections": [section]})
    assert "## 定位" in render_markdown(report, "zh") and "- zk1：进程故障" in render_markdown(report, "zh")
    assert "<pre>- zk1: process down</pre>" in render_html(report, "en")


def test_render_by_name_and_times_in_the_given_zone() -> None:
    report = sample()
    assert render(report, "json", "en").startswith("{")
    with pytest.raises(ValueError, match="format"):
        render(report, "pdf", "en")
    assert "2026-03-01 16:00:00" in render_markdown(report, "en", tz=timezone(timedelta(hours=8)))


def test_charts_are_escaped_inline_svg() -> None:
    svg = str(sparkline([1.0, 5.0, 3.0], status="critical"))
    assert svg.startswith("<svg") and "xmlns" not in svg and "polyline" in svg
    strip = str(status_strip([OK, CRIT], {"ok": "<ok>", "critical": "bad"}))
    assert "&lt;ok&gt;" in strip and strip.count("<rect") == 2
    assert [fmt_number(v) for v in (95.5, 1048576.0, 0.01234, 3.0)] == ["95.5", "1,048,576", "0.0123", "3"]
