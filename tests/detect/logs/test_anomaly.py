"""Log anomaly signals: new templates after warm-up, rate spikes, error weight, timestamps, state."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steadyops.detect.logs.anomaly import LogAnomalyDetector, Signal, is_error, parse_timestamp

T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
STEADY = ["GET /api/users/{} 200 in {}ms", "cache hit for key user:{} size {}", "heartbeat from node-{} ok seq {}",
          "订单 {} 已支付，金额 {} 元"]


def steady(det: LogAnomalyDetector, start: float, seconds: float, rng: random.Random,
           rate: float = 2.0) -> list[Signal]:
    """Poisson traffic of a few known messages: what an ordinary healthy service logs."""
    out, t = [], start
    while t < start + seconds:
        t += rng.expovariate(rate)
        msg = rng.choice(STEADY).format(rng.randint(1, 9999), rng.randint(1, 500))
        out.append(det.observe_at(msg, t))
    return out


def test_steady_traffic_scores_low() -> None:
    det, rng = LogAnomalyDetector(), random.Random(7)
    signals = steady(det, T0, 3600, rng)
    assert det.warmed_up
    after = [s for s in signals if s.timestamp > T0 + 900]
    assert max(s.score for s in after) < 0.1
    assert not any(s.new for s in signals)
    assert all(st.score < 0.1 for st in det.stats(T0 + 900, T0 + 3600))


def test_new_template_after_warmup_is_flagged_but_not_during_it() -> None:
    det, rng = LogAnomalyDetector(), random.Random(1)
    early = det.observe_at("starting worker pool with 8 threads", T0)
    assert not early.new and early.score == 0.0  # everything is new at start: that is not news
    steady(det, T0, 1200, rng)
    sig = det.observe_at("worker 3 lost connection to broker 10.0.0.7:5672, retrying", T0 + 1201)
    assert sig.new and sig.score == pytest.approx(det.config.new_template_score)
    again = det.observe_at("worker 4 lost connection to broker 10.0.0.8:5672, retrying", T0 + 1202)
    assert not again.new and again.template_id == sig.template_id  # flagged once, on first sighting
    (stat,) = [s for s in det.stats(T0 + 1190, T0 + 1210) if s.template_id == sig.template_id]
    assert stat.new and stat.count == 2 and "new template" in stat.describe()
    assert not [s for s in det.stats(T0 + 1300, T0 + 1400) if s.new]  # outside its window it is not new


def test_burst_of_one_known_template_scores_high() -> None:
    det, rng = LogAnomalyDetector(), random.Random(3)
    steady(det, T0, 1800, rng)
    signals = [det.observe_at(f"cache hit for key user:{i} size 12", T0 + 1800 + i * 0.1) for i in range(300)]
    assert signals[-1].spike > 0.9 and signals[-1].score > 0.9
    assert signals[0].spike == 0.0  # the first lines of the bucket are still ordinary
    top = det.stats(T0 + 1740, T0 + 1860)[0]
    assert top.template.startswith("cache hit for key") and top.ratio > 8
    assert top.describe().startswith("rate x")


def test_error_templates_weigh_more() -> None:
    scores = {}
    for text in ("upstream answered slowly for request {}", "ERROR upstream timed out for request {}"):
        det, rng = LogAnomalyDetector(), random.Random(5)
        steady(det, T0, 1200, rng)
        sig = det.observe_at(text.format(1), T0 + 1201)
        scores[text.split()[0]] = sig.score
        assert sig.error == text.startswith("ERROR")
    assert scores["ERROR"] > scores["upstream"]
    assert is_error("java.net.SocketTimeoutException: Read timed out") and is_error("panic: runtime error")
    assert is_error("数据库连接失败") and is_error("出现异常") and not is_error("request served in <*>")


def test_chinese_lines() -> None:
    det, rng = LogAnomalyDetector(), random.Random(11)
    steady(det, T0, 1200, rng)
    sig = det.observe_at("2026-03-01 00:20:01 支付服务调用银行接口失败，错误码 504", T0 + 1201)
    assert sig.new and sig.error and sig.score == pytest.approx(0.9)
    burst = [det.observe_at(f"订单 {i} 已支付，金额 {i % 90} 元", T0 + 1230 + i * 0.05) for i in range(400)]
    assert burst[-1].spike > 0.9 and "订单" in burst[-1].template


@pytest.mark.parametrize(("line", "expected", "rest"), [
    ("2026-03-01T08:00:01.250Z INFO ready", "2026-03-01T08:00:01.250000+00:00", "INFO ready"),
    ("2026-03-01 16:00:01,250+0800 WARN slow", "2026-03-01T08:00:01.250000+00:00", "WARN slow"),
    ("[2026-03-01T08:00:01+00:00] boot", "2026-03-01T08:00:01+00:00", "boot"),
    ("1772352001 tick", "2026-03-01T08:00:01+00:00", "tick"),
    ("1772352001250 tick", "2026-03-01T08:00:01.250000+00:00", "tick"),
    ('10.0.0.1 - - [01/Mar/2026:08:00:01 +0000] "GET / HTTP/1.1" 200', "2026-03-01T08:00:01+00:00",
     '10.0.0.1 - - <*> "GET / HTTP/1.1" 200'),
])
def test_timestamps_with_zones(line: str, expected: str, rest: str) -> None:
    ts, content = parse_timestamp(line)
    assert ts is not None and datetime.fromtimestamp(ts, UTC).isoformat() == expected
    assert content == rest


def test_local_times_and_syslog_year() -> None:
    local = datetime(2026, 3, 1, 8, 0, 1)
    ts, rest = parse_timestamp("2026-03-01 08:00:01,500 ERROR x")  # no zone: this machine's local time
    assert ts == pytest.approx(local.timestamp() + 0.5) and rest == "ERROR x"
    ref = datetime(2026, 1, 1, 0, 5).timestamp()
    ts, rest = parse_timestamp("Dec 31 23:59:58 db1 kernel: oom", ref)  # just before New Year: last year
    assert ts == datetime(2025, 12, 31, 23, 59, 58).timestamp() and rest == "db1 kernel: oom"
    ts, _ = parse_timestamp("Mar  1 08:00:01 db1 sshd[12]: ok", datetime(2026, 3, 2).timestamp())
    assert ts == local.timestamp()
    assert parse_timestamp("no time 2026 here") == (None, "no time 2026 here")
    assert parse_timestamp("12345 items")[0] is None  # a number is not an epoch


def test_continuation_lines_keep_the_time_of_their_message() -> None:
    det = LogAnomalyDetector()
    first = det.observe("2026-03-01T08:00:01Z ERROR request failed", arrival=T0 + 99_999)
    frame = det.observe("\tat com.example.Handler.run(Handler.java:42)", arrival=T0 + 99_999)
    assert frame.timestamp == first.timestamp == datetime(2026, 3, 1, 8, 0, 1, tzinfo=UTC).timestamp()
    plain = LogAnomalyDetector().observe("no timestamps in this stream", arrival=T0)
    assert plain.timestamp == T0


def test_state_round_trip_continues_identically(tmp_path: Path) -> None:
    a, rng = LogAnomalyDetector(), random.Random(2)
    steady(a, T0, 1200, rng)
    a.observe_at("ERROR disk /data is full", T0 + 1201)
    a.save(tmp_path / "state.json")
    b = LogAnomalyDetector.load(tmp_path / "state.json")
    assert b.warmed_up and len(b.miner) == len(a.miner)
    tail = [f"cache hit for key user:{i} size 3" for i in range(200)] + ["ERROR disk /data is full"]
    for i, line in enumerate(tail):
        assert a.observe_at(line, T0 + 1210 + i * 0.1) == b.observe_at(line, T0 + 1210 + i * 0.1)
    assert a.stats(T0, T0 + 2000) == b.stats(T0, T0 + 2000)
    (tmp_path / "bad.json").write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a log-anomaly state"):
        LogAnomalyDetector.load(tmp_path / "bad.json")
