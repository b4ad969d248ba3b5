"""Shared check-summary phrases in zh reports (issue 16: "ZooKeeper is not listening…" in a zh report)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from steadyops.core.models import CheckStatus, Finding
from steadyops.core.summaries import in_lang
from steadyops.reports import render
from steadyops.reports.inspection import build_report

CASES = [
    ("ZooKeeper is not listening: connection refused: nothing listens on the port: [Errno 111] x",
     "ZooKeeper 未在监听：连接被拒绝：端口上无人监听: [Errno 111] x"),
    ("cannot tell the quorum role: connection refused", "无法判断（the quorum role）：连接被拒绝"),
    ("timed out after 5s", "超时（5 秒）"),
    ("blocked by redis.ping: timed out after 2s", "被 redis.ping 阻塞：超时（2 秒）"),
    ("not applicable: this host was not booted with systemd", "不适用：本机不是以 systemd 启动的"),
    ("imok", "imok"),  # the server's own words stay
]


@pytest.mark.parametrize(("en", "zh"), CASES)
def test_shared_phrases_in_zh_and_unchanged_in_en(en: str, zh: str) -> None:
    assert in_lang(en, "zh") == zh
    assert in_lang(en, "en") == en


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_zh_report_renders_the_summaries_in_zh(fmt: str) -> None:
    finding = Finding(check="zookeeper.port", target="zk-1", target_kind="zookeeper", status=CheckStatus.CRITICAL,
                      summary="ZooKeeper is not listening: connection refused", layer="process",
                      started_at=datetime(2026, 1, 1, tzinfo=UTC))
    report = build_report([finding], started_at=datetime(2026, 1, 1, tzinfo=UTC), run_id=1)
    zh = render(report, fmt, "zh")
    assert "ZooKeeper 未在监听" in zh and "is not listening" not in zh
    assert "is not listening" in render(report, fmt, "en")
