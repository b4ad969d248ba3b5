"""``steadyops serve`` ingests in a child process it owns (pipeline/ingester.py), with a real server.

* alerts posted to the server become alert state and incidents, written by the child;
* the child killed with SIGKILL mid-stream is restarted by the server, and nothing is lost: every
  acknowledged alert is stored once, the journal drains, the incidents' counts agree with the alerts;
* the server killed with SIGKILL takes the child with it (no orphan keeps ingesting);
* on PostgreSQL, ``pipeline_processes: 2`` runs two children that share the journal by shards: the
  result is the one a single child reaches, and a killed one is replaced while the other goes on.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import func, select

from steadyops.store import Store, counts
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import AlertRow, IncidentRow
from tests.harness.services import Services, wait_until

pytestmark = [pytest.mark.integration]

CONFIG: dict[str, Any] = {
    "route": {"receiver": "default", "group_by": ["alertname", "job"], "group_wait": "1h",
              "group_interval": "1h", "repeat_interval": "4h"},
    "receivers": [{"name": "default"}],
    "lang": "en",
}


def _post(client: httpx.Client, start: int, n: int) -> None:
    alerts = [{"labels": {"alertname": f"Probe{i % 3}", "job": f"svc-{i % 7}", "instance": f"host-{i}"}}
              for i in range(start, start + n)]
    client.post("/api/v1/alerts", json={"source": "ingest-test", "alerts": alerts}).raise_for_status()


def _ingesters(server_pid: int) -> list[psutil.Process]:
    return [child for child in psutil.Process(server_pid).children() if "spawn_main" in " ".join(child.cmdline())]


def _ingester(server_pid: int) -> psutil.Process | None:
    found = _ingesters(server_pid)
    return found[0] if found else None


def _state(url: str) -> tuple[int, int, int, list[tuple[int, int, int, int, int]]]:
    """(alerts stored, journal rows pending, incidents, count drift)."""
    store = Store(url, run_migrations=False)
    try:
        with store.transaction() as s:
            stored = int(s.scalar(select(func.count()).select_from(AlertRow)) or 0)
            incidents = int(s.scalar(select(func.count()).select_from(IncidentRow)) or 0)
            return stored, alerts_repo.count_pending(s), incidents, counts.drifted(s)
    finally:
        store.close()


def test_serve_ingests_in_a_child_it_restarts_and_takes_down(services: Services, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    url = f"sqlite:///{(data_dir / 'steadyops.db').as_posix()}"
    app = services.steadyops(CONFIG, data_dir=data_dir)
    pid = app.proc.pid
    wait_until(lambda: _ingester(pid), timeout=30, what="the ingestion child", logs=[app])
    first = _ingester(pid)
    assert first is not None

    with httpx.Client(base_url=app.url, timeout=30, headers={"Authorization": f"Bearer {app.token}"}) as client:
        for start in range(0, 2000, 200):
            _post(client, start, 200)
        wait_until(lambda: _state(url)[:2] == (2000, 0), timeout=60, what="2000 alerts ingested", logs=[app])
        assert _state(url)[2] == 21  # 3 alert names x 7 jobs: one group, one incident each

        first.kill()  # SIGKILL, maybe mid-batch: that batch rolls back and is replayed
        for start in range(2000, 4000, 200):
            _post(client, start, 200)
        wait_until(lambda: (c := _ingester(pid)) is not None and c.pid != first.pid, timeout=30,
                   what="a new ingestion child", logs=[app])
        wait_until(lambda: _state(url)[:2] == (4000, 0), timeout=60, what="4000 alerts ingested", logs=[app])
    stored, pending, incidents, drift = _state(url)
    assert (stored, pending, incidents, drift) == (4000, 0, 21, [])

    second = _ingester(pid)
    assert second is not None
    app.kill()  # SIGKILL the server: the child notices its parent is gone and exits
    deadline = time.monotonic() + 10
    while second.is_running() and second.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE


def test_two_ingestion_children_share_a_postgresql_journal(services: Services, tmp_path: Path,
                                                           pg_url_own: str) -> None:
    app = services.steadyops({**CONFIG, "pipeline_processes": 2}, data_dir=tmp_path / "data",
                             env={"STEADYOPS_DATABASE_URL": pg_url_own})
    pid = app.proc.pid
    wait_until(lambda: len(_ingesters(pid)) == 2, timeout=30, what="two ingestion children", logs=[app])
    first, second = _ingesters(pid)
    with httpx.Client(base_url=app.url, timeout=30, headers={"Authorization": f"Bearer {app.token}"}) as client:
        for start in range(0, 3000, 300):
            _post(client, start, 300)
        first.kill()  # mid-stream: its batch rolls back; the other child and the replacement take its shards
        for start in range(3000, 6000, 300):
            _post(client, start, 300)
        wait_until(lambda: len(_ingesters(pid)) == 2 and first.pid not in {c.pid for c in _ingesters(pid)},
                   timeout=30, what="a replacement ingestion child", logs=[app])
        wait_until(lambda: _state(pg_url_own)[:2] == (6000, 0), timeout=90, what="6000 alerts ingested",
                   logs=[app])
    assert second.is_running()
    assert _state(pg_url_own) == (6000, 0, 21, [])  # one incident per group, counts agreeing with the alerts
