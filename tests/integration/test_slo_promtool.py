"""The generated SLO rules under Prometheus' own tools: ``promtool check rules`` and ``promtool test rules``.

The exact-timing claims are made here, with the real (unscaled) rules and Prometheus' rule-unit-test
engine, because they are about hours of data: a 2 % error rate at a 99.9 % objective burns the
budget 20× too fast; the 1 h / 5 m pair (threshold 14.4 × 0.1 % = 1.44 %) must page once the 1 h
error ratio, which grows as 2 % × minutes/60 after the fault starts, passes 1.44 % — the
workbook's detection time, (1 − SLO) / error ratio × window × factor = 0.05 × 60 min × 14.4 =
43.2 min. A 0.05 % error rate (half the budget's sustainable rate) must never alert, page or
ticket. ``tests/integration/test_slo_prometheus.py`` then runs the same generator, time-compressed,
in a live Prometheus to show that the alert fires and reaches steadyops.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from steadyops.operations.slo.rules import render_rules
from steadyops.operations.slo.spec import parse_specs
from tests.harness.services import find_binary

pytestmark = pytest.mark.integration

SPEC = """
version: prometheus/v1
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
    alerting:
      name: ShopAvailabilityBurn
"""

FAULT_AT = 180  # minutes of healthy traffic before the fault
TICKET = {  # with only 3 h of history the 1 d / 3 d windows see mostly the fault, so the ticket fires
    "exp_labels": {"severity": "warning", "sloth_severity": "ticket", "sloth_id": "shop-availability",
                   "sloth_service": "shop", "sloth_slo": "availability"},  # early too (that is the ticket's
    "exp_annotations": {                                                    # job: 2 % is above 1x)
        "title": "(ticket) shop availability SLO error budget burn rate is too high",
        "summary": "shop availability: the error budget of a 99.9% objective is burning faster than 3x / 1x "
                   "its sustainable rate",
    },
}
PAGE_LABELS = {"severity": "critical", "sloth_severity": "page", "sloth_id": "shop-availability",
               "sloth_service": "shop", "sloth_slo": "availability"}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([find_binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _write_rules(tmp_path: Path) -> Path:
    path = tmp_path / "slo-rules.yml"
    path.write_text(render_rules(parse_specs(SPEC)), encoding="utf-8")
    return path


def _series(error_per_min: float, minutes: int, fault_at: int) -> list[dict[str, str]]:
    """100 requests/s; from ``fault_at`` on, ``error_per_min`` of every 6000 a minute fail."""
    ok_after = 6000 - error_per_min
    ok_at_fault = 6000 * fault_at
    return [
        {"series": 'http_requests_total{job="shop",code="200"}',
         "values": (f"0+6000x{fault_at} " if fault_at else "")
                   + f"{ok_at_fault + ok_after:g}+{ok_after:g}x{minutes - fault_at - 1}"},
        {"series": 'http_requests_total{job="shop",code="500"}',
         "values": (f"0x{fault_at} " if fault_at else "")
                   + f"{error_per_min:g}+{error_per_min:g}x{minutes - fault_at - 1}"},
    ]


def _page(summary_objective: str = "99.9") -> dict[str, Any]:
    return {
        "exp_labels": PAGE_LABELS,
        "exp_annotations": {
            "title": "(page) shop availability SLO error budget burn rate is too high",
            "summary": f"shop availability: the error budget of a {summary_objective}% objective is burning "
                       "faster than 14.4x / 6x its sustainable rate",
        },
    }


def test_generated_rules_pass_promtool_check(require: Callable[..., None], tmp_path: Path) -> None:
    require("promtool")
    rules = _write_rules(tmp_path)
    done = _promtool("check", "rules", str(rules), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # 7 burn-rate windows + the period, 7 metadata recordings, page + ticket
    assert "SUCCESS: 17 rules found" in done.stdout


def test_page_fires_at_the_workbook_detection_time_and_not_at_half_the_budget(
    require: Callable[..., None], tmp_path: Path
) -> None:
    require("promtool")
    rules = _write_rules(tmp_path)
    minutes = FAULT_AT + 90
    tests = {
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "tests": [
            {   # 2 % errors (120 of 6000 a minute) from FAULT_AT: page at 43.2 min, not before
                "interval": "1m",
                "input_series": _series(120, minutes, FAULT_AT),
                "alert_rule_test": [
                    {"eval_time": f"{FAULT_AT + 43}m", "alertname": "ShopAvailabilityBurn",
                     "exp_alerts": [TICKET]},
                    {"eval_time": f"{FAULT_AT + 44}m", "alertname": "ShopAvailabilityBurn",
                     "exp_alerts": [_page(), TICKET]},
                ],
                "promql_expr_test": [
                    {"expr": 'slo:current_burn_rate:ratio{sloth_id="shop-availability"}',
                     "eval_time": f"{FAULT_AT + 44}m",
                     "exp_samples": [{"labels": 'slo:current_burn_rate:ratio{sloth_id="shop-availability",'
                                                'sloth_service="shop",sloth_slo="availability",'
                                                'sloth_window="5m"}',
                                      "value": 20}]},
                ],
            },
            {   # 0.05 % errors (3 of 6000 a minute) all along: silence, page and ticket, for hours
                "interval": "1m",
                "input_series": _series(3, minutes, 0),
                "alert_rule_test": [
                    {"eval_time": f"{m}m", "alertname": "ShopAvailabilityBurn", "exp_alerts": []}
                    for m in (10, 60, FAULT_AT, minutes - 1)
                ],
            },
        ],
    }
    path = tmp_path / "slo-test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    done = _promtool("test", "rules", path.name, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_cli_writes_checked_rules_and_refuses_nothing_valid(require: Callable[..., None], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from steadyops.cli import app

    require("promtool")
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = tmp_path / "rules" / "slo.yml"
    result = CliRunner().invoke(app, ["--lang", "en", "slo", "rules", str(spec), "-o", str(out),
                                      "--require-promtool"])
    assert result.exit_code == 0, result.output
    assert "promtool check rules: passed." in result.output
    assert _promtool("check", "rules", str(out), cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.replace("99.9", "100"), encoding="utf-8")
    before = out.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["--lang", "en", "slo", "rules", str(bad), "-o", str(out)])
    assert result.exit_code == 1 and "objective" in result.output
    assert out.read_text(encoding="utf-8") == before  # the loaded file is untouched
