"""Deterministic diagnosis: ranks the failing dependency first, cites runbooks, proposes remedies only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.integrations.host.actions import CleanLogs
from steadyops.pipeline import diagnose
from steadyops.plugins import Registry
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import ActionRunRow
from tests.harness.timeline import alert as mk_alert
from tests.harness.timeline import push, run_until

STATE: dict[str, CheckStatus] = {}


class Disk(Check):
    """Disk usage per mount."""

    name: ClassVar[str] = "host.disk"
    target_kind: ClassVar[str] = "host"
    runbook: ClassVar[str | None] = "host/host-disk-full.en.md"  # only runbooks a failing check names are cited

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
    from tests.harness.timeline import alert, push

    push(app, fake_clock, alert(fake_clock, "Mystery", instance="a"), alert(fake_clock, "Mystery2", instance="b"))
    await run_until(app, fake_clock, 1.0)
    with app.store.transaction() as s:
        for inc in incidents_repo.list_rows(s):
            d = diagnose.latest(s, inc.id)
            assert d is not None and d.actions == []


async def test_log_spike_on_the_dependency_corroborates_it(make_app: Any, fake_clock: FakeClock,
                                                           tmp_path: Path) -> None:
    from datetime import timedelta

    inv = tmp_path / "inv.yaml"
    inv.write_text("targets:\n  - {name: db-host, kind: host, address: 10.0.0.5}\n"
                   "  - {name: app-host, kind: host, address: 10.0.0.6, depends_on: [db-host]}\n")
    now = fake_clock.now()
    lines = [f"{(now - timedelta(seconds=s)).isoformat()} INFO checkpoint complete, {s % 7} pages flushed"
             for s in range(3600, 0, -20)]
    lines += [f"{(now - timedelta(seconds=40 - i * 0.2)).isoformat()} ERROR too many connections from 10.0.1.{i}"
              for i in range(150)]
    (tmp_path / "db.log").write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    reg = Registry()
    reg.add_check(Disk)
    route = {"group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}
    STATE.clear()
    STATE["db-host"] = STATE["app-host"] = CheckStatus.WARNING
    verdicts = {}
    for logs in ([], [{"path": str(tmp_path / "db*.log"), "target": "db-host"}]):
        app = make_app(registry=reg, inventory=inv, route=route, log_sources=logs)
        await app.checks.inspect(app.checks.jobs())
        await run_until(app, fake_clock, fake_clock.elapsed + 2.0)
        with app.store.transaction() as s:
            (incident,) = incidents_repo.list_rows(s)
            d = diagnose.latest(s, incident.id, "deterministic")
            assert d is not None
            verdicts[bool(logs)] = d
    without, with_logs = verdicts[False], verdicts[True]
    assert not [e for e in without.evidence if e["kind"] == "log"]
    log_items = [e for e in with_logs.evidence if e["kind"] == "log"]
    assert log_items and {e["target"] for e in log_items} == {"db-host"}  # app-host has no log source
    assert log_items[0]["detail"].startswith("ERROR too many connections") and log_items[0]["score"] > 0.9
    assert "new template" in log_items[0]["summary"] and "rate x" in log_items[0]["summary"]
    # same suspect, more confidence; the logs add at most 1.5, less than one CRITICAL check (3.0)
    assert without.candidates[0]["target"] == with_logs.candidates[0]["target"] == "db-host"
    assert with_logs.confidence > without.confidence and not with_logs.inconclusive
    gain = with_logs.candidates[0]["anomaly"] - without.candidates[0]["anomaly"]
    assert 1.0 < gain <= 1.5


def test_in_a_storm_a_grown_incident_waits_but_a_new_one_does_not(make_app: Any, fake_clock: FakeClock) -> None:
    """needing_diagnosis(settle_since=…): what the engine passes while the journal has a backlog."""
    app = make_app(route={"group_by": ["alertname"], "group_wait": "1h"})
    push(app, fake_clock, mk_alert(fake_clock, "Grown", instance="a"))
    app.pipeline.ingest_once()
    assert app.pipeline.diagnose_once() == 1
    fake_clock.advance(5)
    push(app, fake_clock, mk_alert(fake_clock, "Grown", instance="b"), mk_alert(fake_clock, "Fresh", instance="c"))
    app.pipeline.ingest_once()
    with app.store.transaction() as s:
        titles = {i.title.split(" @ ")[0]: i.id for i in diagnose.needing_diagnosis(s, 10)}
        assert set(titles) == {"Grown", "Fresh"}  # grown since its diagnosis, and new
        settle = fake_clock.now() - timedelta(seconds=30)
        settled = [i.id for i in diagnose.needing_diagnosis(s, 10, settle_since=settle)]
        assert settled == [titles["Fresh"]]  # diagnosed 5 s ago: the grown one waits
        settle = fake_clock.now() - timedelta(seconds=4)
        later = [i.id for i in diagnose.needing_diagnosis(s, 10, settle_since=settle)]
        assert sorted(later) == sorted(titles.values())  # its diagnosis is older than the settle time


async def test_an_alert_naming_two_targets_of_its_incident_counts_for_the_first_listed(
        make_app: Any, fake_clock: FakeClock) -> None:
    """An alert's ``target`` and ``instance`` labels can name two different targets of its incident; its
    evidence goes to the one the incident listed first (the order targets joined it), whichever label
    names it (the lookup by position that replaced a walk of the target list per alert)."""
    app = make_app(route={"group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s",
                          "repeat_interval": "1h"})
    push(app, fake_clock, mk_alert(fake_clock, "Split", instance="first-host"))
    await run_until(app, fake_clock, 0.5)
    push(app, fake_clock, mk_alert(fake_clock, "Split", instance="second-host"),
         mk_alert(fake_clock, "Split", target="second-host", instance="first-host", severity="critical"))
    await run_until(app, fake_clock, 3.0)
    with app.store.transaction() as s:
        (incident,) = incidents_repo.list_rows(s)
        d = diagnose.latest(s, incident.id, "deterministic")
        assert d is not None
        by_target = {e["target"] for e in d.evidence if e["kind"] == "alert"}
        assert by_target == {"first-host", "second-host"}
        top = {c["target"]: c for c in d.candidates}
        assert top["first-host"]["critical"] and not top["second-host"]["critical"]
