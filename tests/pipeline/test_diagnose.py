"""Deterministic diagnosis: ranks the failing dependency first, cites runbooks, proposes remedies only."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from steadyops.checks import Check
from steadyops.clock import FakeClock
from steadyops.integrations.host.actions import CleanLogs
from steadyops.inventory import Target
from steadyops.models import CheckResult, CheckStatus
from steadyops.pipeline import diagnose
from steadyops.plugins import Registry
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import ActionRunRow
from steadyops.testing.timeline import run_until

STATE: dict[str, CheckStatus] = {}


class Disk(Check):
    """Disk usage per mount."""

    name: ClassVar[str] = "host.disk"
    target_kind: ClassVar[str] = "host"

    async def run(self, target: Target) -> CheckResult:
        status = STATE.get(target.name, CheckStatus.OK)
        return CheckResult(status=status, summary=f"/var/lib 97% used on {target.name}", layer="disk")


async def test_root_cause_runbook_and_remedy(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text("targets:\n  - {name: db-host, kind: host, address: 10.0.0.5}\n"
                   "  - {name: app-host, kind: host, address: 10.0.0.6, depends_on: [db-host]}\n")
    reg = Registry()
    reg.add_check(Disk)
    reg.add_action(CleanLogs)
    app = make_app(registry=reg, inventory=inv,
                   route={"group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s",
                          "repeat_interval": "1h"})
    STATE.clear()
    STATE["db-host"] = CheckStatus.CRITICAL
    STATE["app-host"] = CheckStatus.WARNING
    await app.checks.inspect(app.checks.jobs())
    await run_until(app, fake_clock, 2.0)
    with app.store.transaction() as s:
        (incident,) = incidents_repo.list_rows(s)
        d = diagnose.latest(s, incident.id, "deterministic")
        assert d is not None
        assert d.candidates[0]["target"] == "db-host" and not d.inconclusive
        assert "db-host" in d.summary and "disk" in d.summary
        assert d.runbooks and any("disk" in r["source"] for r in d.runbooks)
        assert d.actions == [{"action": "host.clean_logs", "target": "db-host", "because": ["host.disk"],
                              "risk": "medium", "confidence": d.confidence, "status": "proposed (not executed)"}]
        assert s.query(ActionRunRow).count() == 0  # proposed in the diagnosis, nothing planned or run


async def test_inconclusive_without_evidence(make_app: Any, fake_clock: FakeClock) -> None:
    app = make_app(route={"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
    from steadyops.testing.timeline import alert, push

    push(app, fake_clock, alert(fake_clock, "Mystery", instance="a"), alert(fake_clock, "Mystery2", instance="b"))
    await run_until(app, fake_clock, 1.0)
    with app.store.transaction() as s:
        for inc in incidents_repo.list_rows(s):
            d = diagnose.latest(s, inc.id)
            assert d is not None and d.actions == []
