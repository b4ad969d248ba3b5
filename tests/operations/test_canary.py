"""The canary gate on generated latency samples with known differences (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from steadyops.operations.canary import EXIT_CODES, Arm, bootstrap_quantile, compare

SEEDS = range(40)
N = 8000


def lognormal(seed: int, scale: float = 1.0, n: int = N) -> list[float]:
    return list(np.random.default_rng(seed).lognormal(5.0, 0.5, n) * scale)


def test_finds_a_ten_percent_p95_regression_at_the_stated_confidence() -> None:
    verdicts = [compare(Arm(lognormal(1000 + s)), Arm(lognormal(2000 + s, 1.10)), confidence=0.95, seed=s)
                for s in SEEDS]
    found = sum(v.verdict == "fail" for v in verdicts)
    assert found >= 38, [v.slis[0].detail for v in verdicts if v.verdict != "fail"]
    sli = verdicts[0].slis[0]
    assert sli.ci_low is not None and sli.ci_low > 1.0 and sli.estimate is not None and 1.05 < sli.estimate < 1.16


def test_identical_distributions_stay_inconclusive() -> None:
    verdicts = [compare(Arm(lognormal(3000 + s)), Arm(lognormal(4000 + s)), confidence=0.95, seed=s).verdict
                for s in SEEDS]
    assert verdicts.count("pass") == 0
    # a 95 % two-sided interval: ≈ 2.5 % false alarms expected (1 of 40); allow up to 10 %
    assert verdicts.count("fail") <= 4, verdicts.count("fail")
    assert verdicts.count("inconclusive") >= 36


def test_margin_turns_it_into_a_non_inferiority_gate() -> None:
    result = compare(Arm(lognormal(5)), Arm(lognormal(6)), margin=0.10)
    assert result.verdict == "pass"


def test_too_few_samples_is_inconclusive_not_pass() -> None:
    result = compare(Arm([100.0] * 10), Arm([500.0] * 10))
    assert result.verdict == "inconclusive" and "at least 30" in result.slis[0].detail


def test_error_rate_two_proportion() -> None:
    base = Arm(lognormal(7, n=500), errors=10, requests=5000)
    worse = compare(base, Arm(lognormal(8, n=500), errors=60, requests=5000))
    assert worse.verdict == "fail" and worse.slis[1].verdict == "fail" and worse.slis[1].p_value is not None
    assert worse.slis[1].p_value < 0.001
    same = compare(base, Arm(lognormal(9, n=500), errors=11, requests=5000))
    assert same.slis[1].verdict == "inconclusive"


def test_quality_score_regression() -> None:
    rng = np.random.default_rng(11)
    result = compare(Arm(lognormal(12, n=300), quality=list(rng.normal(0.80, 0.1, 300))),
                     Arm(lognormal(13, n=300), quality=list(rng.normal(0.70, 0.1, 300))))
    assert result.verdict == "fail" and result.slis[-1].name == "quality"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="errors <= requests"):
        compare(Arm([1.0] * 40), Arm([1.0] * 40, errors=5, requests=2))
    with pytest.raises(ValueError, match="finite"):
        compare(Arm([1.0] * 40), Arm([float("nan")] * 40))


def test_bootstrap_quantile_matches_resampling() -> None:
    rng = np.random.default_rng(0)
    data = rng.lognormal(5, 0.5, 2000)
    fast = bootstrap_quantile(data, 0.95, 20000, np.random.default_rng(1))
    slow = np.quantile(data[np.random.default_rng(2).integers(0, 2000, size=(2000, 2000))], 0.95, axis=1,
                       method="inverted_cdf")
    assert abs(np.mean(fast) - np.mean(slow)) / np.mean(slow) < 0.005
    assert abs(np.std(fast) - np.std(slow)) / np.std(slow) < 0.1


def test_cli_gate_exit_codes(tmp_path: Path) -> None:
    from steadyops.cli import app

    base, slow = tmp_path / "base.json", tmp_path / "slow.json"
    base.write_text(json.dumps({"latency_ms": lognormal(21), "errors": 3, "requests": 8000}))
    slow.write_text(json.dumps({"latency_ms": lognormal(22, 1.10), "errors": 4, "requests": 8000}))
    runner = CliRunner()
    failed = runner.invoke(app, ["canary", "compare", str(base), str(slow), "--format", "json"])
    assert failed.exit_code == EXIT_CODES["fail"], failed.output
    assert json.loads(failed.stdout)["verdict"] == "fail"
    same = runner.invoke(app, ["canary", "compare", str(base), str(base)])
    assert same.exit_code == EXIT_CODES["inconclusive"], same.output
    bad = runner.invoke(app, ["canary", "compare", str(base), str(tmp_path / "missing.json")])
    assert bad.exit_code == 2
