"""Topology-aware convergence: alerts on linked targets within the window share one incident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steadyops.core.clock import FakeClock
from steadyops.store import incidents as incidents_repo
from tests.harness.timeline import alert, push, run_until

INVENTORY = """
targets:
  - {name: mysql-1, kind: mysql, address: 10.0.0.5}
  - {name: order-svc, kind: http, address: 10.0.1.7, depends_on: [mysql-1]}
  - {name: web, kind: nginx, address: 10.0.2.9, depends_on: [order-svc]}
  - {name: redis-9, kind: redis, address: 10.0.3.3}
"""


def app_with_inventory(make_app: Any, tmp_path: Path, **kw: Any) -> Any:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY)
    return make_app(inventory=inv, route={"group_by": ["alertname", "instance"], "group_wait": "1s",
                                          "group_interval": "2s", "repeat_interval": "1h"}, **kw)


def incidents(app: Any) -> list[Any]:
    with app.store.transaction() as s:
        return [incidents_repo.to_model(s, r) for r in incidents_repo.list_rows(s)]


async def test_linked_targets_join_one_incident(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = app_with_inventory(make_app, tmp_path)
    push(app, fake_clock, alert(fake_clock, "MySQLDown", instance="10.0.0.5:9104", severity="critical"))
    await run_until(app, fake_clock, 1.0)
    push(app, fake_clock, alert(fake_clock, "HighErrorRate", instance="10.0.1.7:8080"))   # 1 hop
    push(app, fake_clock, alert(fake_clock, "Slow", instance="10.0.2.9:80"))              # 2 hops
    push(app, fake_clock, alert(fake_clock, "RedisDown", instance="10.0.3.3:6379"))       # unrelated
    notes = await run_until(app, fake_clock, 4.0)
    got = sorted((i.title, sorted(i.targets), i.alert_count) for i in incidents(app))
    assert got == [
        ("MySQLDown @ mysql-1", ["mysql-1", "order-svc", "web"], 3),
        ("RedisDown @ redis-9", ["redis-9"], 1),
    ]
    # four groups still notify (Alertmanager compatible), but point at two incidents
    assert len(notes) == 4
    assert len({p["incident_id"] for _, p in notes}) == 2


async def test_outside_window_opens_new_incident(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = app_with_inventory(make_app, tmp_path, convergence={"window": "60s"})
    push(app, fake_clock, alert(fake_clock, "MySQLDown", instance="10.0.0.5:9104"))
    await run_until(app, fake_clock, 100.0, step=1.0)
    push(app, fake_clock, alert(fake_clock, "HighErrorRate", instance="10.0.1.7:8080"))
    await run_until(app, fake_clock, 102.0, step=1.0)
    assert len(incidents(app)) == 2


async def test_convergence_can_be_disabled(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = app_with_inventory(make_app, tmp_path, convergence={"enabled": False})
    push(app, fake_clock, alert(fake_clock, "MySQLDown", instance="10.0.0.5:9104"),
         alert(fake_clock, "HighErrorRate", instance="10.0.1.7:8080"))
    await run_until(app, fake_clock, 2.0)
    assert len(incidents(app)) == 2
