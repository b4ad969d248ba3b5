"""SLO specs (Sloth's format) and the generated rules, without Prometheus (see tests/integration for promtool)."""

from __future__ import annotations

import pytest
import yaml

from steadyops.core.errors import ValidationFailed
from steadyops.operations.slo.rules import WORKBOOK, prom_duration, render_rules, rules_document
from steadyops.operations.slo.spec import parse_specs

SLOTH_EXAMPLE = """
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  repo: "myorg/myservice"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
          routing_key: myteam
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
"""


def test_a_sloth_example_file_is_read_unchanged() -> None:
    [spec] = parse_specs(SLOTH_EXAMPLE)
    assert spec.service == "myservice" and spec.window == "30d"
    [slo] = spec.slos
    assert slo.budget == pytest.approx(0.001)
    doc = rules_document([spec])
    [group] = doc["groups"]
    alerts = [r for r in group["rules"] if "alert" in r]
    assert [a["labels"]["severity"] for a in alerts] == ["pageteam", "slack"]
    assert alerts[0]["annotations"]["summary"] == "High error rate on 'myservice' requests responses"
    assert alerts[0]["labels"]["routing_key"] == "myteam"
    five = next(r for r in group["rules"] if r.get("record") == "slo:sli_error:ratio_rate5m")
    assert '[5m]' in five["expr"] and "{{.window}}" not in five["expr"]
    assert five["labels"]["owner"] == "myteam" and five["labels"]["sloth_id"] == "myservice-requests-availability"


def test_burn_factors_are_the_workbook_table_for_30_days_and_scale_with_the_period() -> None:
    month = 30 * 86400
    assert [(w.severity, prom_duration(w.long), prom_duration(w.short), w.factor(month)) for w in WORKBOOK] == [
        ("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6), ("ticket", "1d", "2h", 3), ("ticket", "3d", "6h", 1)]
    assert WORKBOOK[0].factor(28 * 86400) == pytest.approx(13.44)


def test_page_expression_pairs_long_and_short_windows() -> None:
    [spec] = parse_specs(SLOTH_EXAMPLE)
    page = next(r for r in rules_document([spec])["groups"][0]["rules"] if r.get("labels", {}).get(
        "sloth_severity") == "page")
    assert "ratio_rate5m" in page["expr"] and "ratio_rate1h" in page["expr"] and "(14.4 * 0.001)" in page["expr"]
    assert "ratio_rate30m" in page["expr"] and "ratio_rate6h" in page["expr"] and "(6 * 0.001)" in page["expr"]


def test_time_scale_compresses_windows_but_keeps_names_and_thresholds() -> None:
    [spec] = parse_specs(SLOTH_EXAMPLE)
    rules = rules_document([spec], time_scale=60)["groups"][0]["rules"]
    one_hour = next(r for r in rules if r.get("record") == "slo:sli_error:ratio_rate1h")
    assert "[1m]" in one_hour["expr"] and one_hour["labels"]["sloth_window"] == "1m"
    five = next(r for r in rules if r.get("record") == "slo:sli_error:ratio_rate5m")
    assert "[5s]" in five["expr"]
    assert "(14.4 * 0.001)" in next(r for r in rules if "alert" in r)["expr"]
    assert "TIME-COMPRESSED" in render_rules([spec], time_scale=60)
    with pytest.raises(ValueError):
        rules_document([spec], time_scale=0.5)


def test_prom_duration() -> None:
    assert [prom_duration(s) for s in (300, 3600, 86400, 2592000, 43.2, 90)] == [
        "5m", "1h", "1d", "30d", "43s200ms", "1m30s"]


def test_probe_sli_counts_steadyops_check_results() -> None:
    [spec] = parse_specs("""
version: prometheus/v1
service: web
window: 28d
slos:
  - name: probe
    objective: 99.5
    sli: {probe: {check: http_probe.status, target: "web-1"}}
""")
    rules = rules_document([spec])["groups"][0]["rules"]
    one_hour = next(r for r in rules if r.get("record") == "slo:sli_error:ratio_rate1h")
    assert 'steadyops_check_results_total{check="http_probe.status",target="web-1",status!="ok"}[1h]' in (
        one_hour["expr"])
    assert any(r.get("record") == "slo:sli_error:ratio_rate28d" for r in rules)


@pytest.mark.parametrize(("text", "needle"), [
    ("version: prometheus/v1\nservice: s\nslos: []", "slos"),
    ("version: prometheus/v2\nservice: s\nslos: [{name: a, objective: 99, sli: {raw: {error_ratio_query: "
     "'x[{{.window}}]'}}}]", "version"),
    ("version: prometheus/v1\nservice: s\nslos: [{name: a, objective: 100, sli: {raw: {error_ratio_query: "
     "'x[{{.window}}]'}}}]", "objective"),
    ("version: prometheus/v1\nservice: s\nslos: [{name: a, objective: 99, sli: {raw: {error_ratio_query: "
     "'x[5m]'}}}]", "{{.window}}"),
    ("version: prometheus/v1\nservice: s\nslos: [{name: a, objective: 99, sli: {plugin: {id: x}}}]",
     "plugin"),
    ("version: prometheus/v1\nservice: s\nwindow: 5m\nslos: [{name: a, objective: 99, sli: {raw: "
     "{error_ratio_query: 'x[{{.window}}]'}}}]", "shorter than an hour"),
    ("version: prometheus/v1\nservice: s\nslos: [{name: a, objective: 99, sli: {raw: {error_ratio_query: "
     "'x[{{.window}}]'}}}, {name: a, objective: 99, sli: {raw: {error_ratio_query: 'x[{{.window}}]'}}}]",
     "twice"),
    ("{not yaml", "not YAML"),
])
def test_bad_specs_are_refused_with_the_field_named(text: str, needle: str) -> None:
    with pytest.raises(ValidationFailed, match=None) as info:
        parse_specs(text)
    assert needle in str(info.value)


def test_rendered_yaml_round_trips() -> None:
    text = render_rules(parse_specs(SLOTH_EXAMPLE))
    assert yaml.safe_load(text) == rules_document(parse_specs(SLOTH_EXAMPLE))
    assert "&id" not in text
