"""``steadyops oncall``, ``report`` and ``slo status`` against a real server, in zh and en."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from steadyops.cli import app as cli
from tests.harness.server import Server

runner = CliRunner()


@pytest.fixture
def server(make_app: Any) -> Iterator[Server]:
    app = make_app(oncall={"schedules": [{"name": "primary", "timezone": "Asia/Shanghai", "layers": [
        {"users": ["alice", "bob"], "start": "2025-12-29T09:00:00", "length": "1w"}]}]})
    with Server(app) as srv:
        yield srv


def _run(server: Server, lang: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--lang", lang, *server.args, *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_oncall_who_and_shifts(server: Server) -> None:
    out = _run(server, "zh", "oncall", "who")
    assert "值班人" in out and "alice" in out  # 2026-01-01 falls in alice's first week
    assert "bob" in _run(server, "en", "oncall", "who", "--at", "2026-01-06T02:00:00+00:00")
    shifts = _run(server, "en", "oncall", "shifts", "primary", "--days", "15")
    assert shifts.count("alice") == 2 and shifts.count("bob") == 1
    assert "HTTP 404" in _run(server, "en", "oncall", "shifts", "nope", code=1)


def test_report_and_slo_status(server: Server, tmp_path: Any) -> None:
    out = _run(server, "en", "report", "weekly", "--date", "2025-12-31")
    assert out.startswith("# Weekly report 2025-12-29 – 2026-01-04") and "Incidents (0)" in out
    target = tmp_path / "week.html"
    _run(server, "zh", "report", "weekly", "--format", "html", "-o", str(target))
    assert "<svg" in target.read_text(encoding="utf-8") and "周报" in target.read_text(encoding="utf-8")
    assert "没有配置 SLO" in _run(server, "zh", "slo", "status")
