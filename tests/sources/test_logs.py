"""Log sources over real files: tails, globs, rotation, search, template summaries, evidence."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from steadyops.config.settings import Settings
from steadyops.core.errors import ConfigError
from steadyops.sources.logs import LOG_WEIGHT, LogSource, LogSources, compile_pattern, log_evidence

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sources(*items: LogSource, now: datetime = T0) -> LogSources:
    return LogSources(items, now=lambda: now.timestamp())


def test_reads_only_the_tail_with_absolute_line_numbers(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"{stamp(T0)} INFO request {i} served\n" for i in range(1, 1001)), encoding="utf-8")
    logs = sources(LogSource(path=str(log), target="app", max_bytes=2000))
    hits = logs.search("app", "request", limit=1000)
    assert 0 < len(hits) < 60 and sum(len(h.text) + 1 for h in hits) <= 2000
    assert [h.line for h in hits] == list(range(1001 - len(hits), 1001))  # counted from the file's start
    assert all(h.text.endswith(f"request {h.line} served") for h in hits)  # no half line at the cut
    with log.open("a", encoding="utf-8") as f:
        f.write(f"{stamp(T0)} ERROR request 1001 fail")  # no newline yet: not a line yet
    assert logs.search("app", "1001") == []
    with log.open("a", encoding="utf-8") as f:
        f.write("ed\n")
    (hit,) = logs.search("app", "1001")
    assert (hit.line, hit.text.endswith("failed"), hit.file) == (1001, True, str(log))


def test_glob_skips_links_pipes_and_compressed_rotations(tmp_path: Path) -> None:
    logs_dir, outside = tmp_path / "logs", tmp_path / "secret.txt"
    logs_dir.mkdir()
    outside.write_text("password=hunter2\n")
    (logs_dir / "a.log").write_text("alpha ready\n")
    (logs_dir / "b.log").write_text("beta ready\n")
    (logs_dir / "c.log").symlink_to(outside)
    os.mkfifo(logs_dir / "d.log")  # opening a FIFO would block the reader forever
    with gzip.open(logs_dir / "e.log.gz", "wt") as f:
        f.write("gamma ready\n")
    logs = sources(LogSource(path=str(logs_dir / "*.log*"), target="app"))
    assert sorted(h.text for h in logs.search(None, "ready|password")) == ["alpha ready", "beta ready"]


def test_rotation_is_not_read_twice_and_truncation_rereads(tmp_path: Path) -> None:
    live = tmp_path / "svc.log"
    live.write_text("one\ntwo\n")
    logs = sources(LogSource(path=str(tmp_path / "svc.log*"), target="svc"))
    assert [h.text for h in logs.search("svc", ".")] == ["one", "two"]
    live.rename(tmp_path / "svc.log.1")  # logrotate: rename, then a fresh file
    with (tmp_path / "svc.log.1").open("a") as f:
        f.write("three\n")  # the writer still had the old file open
    (tmp_path / "svc.log").write_text("four\n")
    got = [(Path(h.file).name, h.line, h.text) for h in logs.search("svc", ".")]
    assert got == [("svc.log.1", 1, "one"), ("svc.log.1", 2, "two"), ("svc.log.1", 3, "three"),
                   ("svc.log", 1, "four")]
    (tmp_path / "svc.log").write_text("")  # copytruncate
    (tmp_path / "svc.log").write_text("five\n")
    assert [(h.line, h.text) for h in logs.search("svc", "five")] == [(1, "five")]


def test_search_patterns_since_limit_and_errors(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"{stamp(T0 + timedelta(minutes=i))} WARN queue depth {i * 10}\n" for i in range(30))
                   + f"{stamp(T0 + timedelta(minutes=30))} ERROR Connection refused (os error 111)\n")
    logs = sources(LogSource(path=str(log), target="x"))
    assert [h.text.split()[-1] for h in logs.search("x", r"depth \d+0$", limit=3)] == ["270", "280", "290"]
    assert len(logs.search("x", "depth", since=T0 + timedelta(minutes=25))) == 5
    assert len(logs.search("x", "connection REFUSED (os")) == 1  # not a valid regex: plain text
    for risky in ("(a+)+$", "((a|b))*", r"(\w+) \1", ".*a.*b.*c"):  # minutes of backtracking each
        with pytest.raises(ValueError, match="refused"):
            compile_pattern(risky)
    assert compile_pattern("(ERROR|WARN)?: disk.*full").search("warn: disk 97% full")
    with pytest.raises(ValueError, match="no log source for target 'nope'"):
        logs.search("nope", "x")
    assert logs.search("x", "depth")[0].to_dict()["time"] == T0.isoformat()


def burst_log(path: Path, burst_at: datetime, *, encoding: str = "utf-8") -> None:
    """An hour of steady traffic, then a burst of connection errors a minute before ``burst_at``."""
    lines = []
    t = burst_at - timedelta(hours=1)
    i = 0
    while t < burst_at:
        lines.append(f"{stamp(t)} INFO 处理请求 {i} 成功 耗时 {i % 50}ms")
        t += timedelta(seconds=2)
        i += 1
    start = burst_at - timedelta(seconds=50)
    lines += [f"{stamp(start + timedelta(seconds=j * 0.1))} ERROR 连接数据库 10.0.0.9:3306 失败: timeout"
              for j in range(200)]
    lines.sort()
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def test_template_summary_and_anomalies_around(tmp_path: Path) -> None:
    burst_log(tmp_path / "db.log", T0, encoding="gbk")
    logs = sources(LogSource(path=str(tmp_path / "db.log"), target="db", encoding="gbk"), now=T0)
    summary = logs.template_summary("db", timedelta(minutes=30))
    assert summary["lines"] == 900 + 200 and summary["newest_line"] is not None
    assert summary["top"][0]["template"].startswith("INFO 处理请求")
    (new,) = summary["new"]
    assert "连接数据库" in new["template"] and new["error"] and new["score"] == 1.0
    assert summary["spiking"][0]["template"] == new["template"]
    around = logs.anomalies_around("db", T0)
    assert around[0].template == new["template"] and "rate x" in around[0].describe()
    assert logs.anomalies_around("db", T0 - timedelta(minutes=30)) == []  # nothing odd half an hour before
    score: dict[str, float] = {"db": 1.5}
    evidence = log_evidence(logs, ["db", "app"], T0, score)
    assert evidence[0]["kind"] == "log" and evidence[0]["target"] == "db" and evidence[0]["score"] == 1.0
    assert "new template" in evidence[0]["summary"]
    assert 1.5 < score["db"] <= 1.5 + LOG_WEIGHT and "app" not in score
    assert log_evidence(None, ["db"], T0, score) == []


def test_configuration(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, log_sources=[{"path": "/var/log/zk/*.log", "target": "zk-1"}])
    assert s.log_sources[0].max_bytes == 5 * 1024 * 1024 and s.log_sources[0].encoding == "utf-8"
    with pytest.raises(ValueError, match="unknown encoding"):
        LogSource(path="x", target="t", encoding="klingon")
    with pytest.raises(ValueError, match="newline"):
        LogSource(path="x", target="t", encoding="utf-16")
    with pytest.raises(ConfigError, match=r"log_sources\.0\.target: unknown target 'zk-9'"):
        LogSources([LogSource(path="x", target="zk-9")], known_targets={"zk-1"})


def test_search_stops_at_its_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.log").write_text("".join(f"tick {i}\n" for i in range(1000)))
    logs = sources(LogSource(path=str(tmp_path / "a.log"), target="a"))
    logs.refresh()
    clock = iter(range(10**6))  # every look at the clock is 10 ms later: a slow pattern
    monkeypatch.setattr("steadyops.sources.logs.time", SimpleNamespace(monotonic=lambda: next(clock) * 0.01))
    hits = logs.search("a", "tick", limit=1000)
    assert 400 < len(hits) < 600 and hits[-1].text == "tick 999"  # the newest, found within 5 s
    with pytest.raises(TimeoutError, match="no match"):
        logs.search("a", "tock")
