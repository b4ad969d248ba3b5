"""Distributed mode for real: `steadyops worker` processes, RabbitMQ (a vhost of our own) and
PostgreSQL (a database of our own); kill -9 a worker during a round and during a remediation apply.

What must hold: every target's round is recorded exactly once (the killed worker's messages are
redelivered and its unfinished rounds taken over, its finished ones not repeated); a duplicate
hand-out changes nothing; an apply whose worker dies mid-apply is never applied again (the stop
command ran once, the start command never) and is settled as interrupted; the audit chain verifies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from steadyops.app import App, build_app
from steadyops.config.settings import load_settings
from steadyops.core.models import Alert, AlertStatus
from steadyops.runner.scheduler import Ticket
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import ActionRunRow, AlertRow, CheckResultRow, DiagnosisRow, InspectionRoundRow
from steadyops.testing.receiver import Receiver
from tests.harness.middleware import RABBIT_API, HttpServer, ensure_rabbitmq_management, rabbitmq_vhost
from tests.harness.services import ServiceMissing, unavailable, wait_until

pytest.importorskip("celery")
pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUEUE = "steadyops-it"
TARGETS = 24  # rounds of ~1.2 s each: long enough to kill a worker in the middle


@pytest.fixture
def vhost() -> Iterator[str]:
    try:
        ensure_rabbitmq_management()
    except ServiceMissing as exc:
        unavailable(exc)
    with rabbitmq_vhost() as name:
        yield name


def consumers(vhost: str) -> int:
    got = httpx.get(f"{RABBIT_API}/api/queues/{quote(vhost, safe='')}/{QUEUE}", auth=("guest", "guest"), timeout=5)
    return int(got.json().get("consumers", 0)) if got.status_code == 200 else 0


class Workers:
    def __init__(self, config: Path, logs: Path) -> None:
        self.config, self.logs = config, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "STEADYOPS_CONFIG": str(self.config), "PYTHONUNBUFFERED": "1"}
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-c", "from steadyops.cli import main; main()", "worker",
                                 "--name", f"{name}@it", "--threads", "2", "--log-level", "info"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        for proc in self.procs.values():
            if proc.pid == pid:
                proc.wait(10)

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs.glob("*.log"))

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def setup(tmp_path: Path, fresh_pg_url: str, vhost: str,
          receiver: Receiver) -> Iterator[tuple[App, Workers, Path, str, Receiver]]:
    with HttpServer() as web:
        scripts = tmp_path / "scripts"
        scripts.mkdir()
        marks = tmp_path / "marks.txt"
        stop, start = scripts / "stop.sh", scripts / "start.sh"
        # stop takes a while (the window to kill its worker in) and writes who ran it ($PPID: the worker)
        stop.write_text(f"#!/bin/sh\necho \"stop $PPID\" >> {marks}\nsleep 3\necho stopped >> {marks}\n")
        start.write_text(f"#!/bin/sh\necho start >> {marks}\n")
        for script in (stop, start):
            script.chmod(0o755)
        inventory = {"targets": [
            *({"name": f"web-{i}", "kind": "http_probe", "address": f"{web.url}/slow/1200",
               "labels": {"tries": "1", "timeout": "5"}} for i in range(TARGETS)),
            {"name": "svc", "kind": "host", "address": "127.0.0.1"},
        ]}
        (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inventory))
        config = {
            "data_dir": str(tmp_path / "data"), "database_url": fresh_pg_url, "lang": "en",
            "inventory": str(tmp_path / "inventory.yaml"),
            "runner": {"engine": "celery", "broker_url": f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}",
                       "queue": QUEUE, "batch": 4, "worker_threads": 2},
            "inspection": {"concurrency": 64},
            "route": {"group_by": ["alertname"], "group_wait": "0s", "group_interval": "5m", "repeat_interval": "4h"},
            "receivers": [{"name": "default", "channels": [{"type": "webhook", "url": receiver.url("webhook")}]}],
            "remediation": {
                "policies": [{"actions": ["service.restart"], "targets": ["svc"], "mode": "auto"}],
                "allow": [{"targets": ["svc"], "actions": ["service.restart"],
                           "commands": [[str(stop)], [str(start)]]}],
            },
        }
        path = tmp_path / "steadyops.yaml"
        path.write_text(yaml.safe_dump(config))
        app = build_app(load_settings(path))  # the API / scheduler side: publishes, waits on the store
        workers = Workers(path, tmp_path)
        try:
            yield app, workers, marks, vhost, receiver
        finally:
            workers.close()
            app.close()


def rounds(app: App) -> list[InspectionRoundRow]:
    with app.store.transaction() as s:
        return list(s.scalars(select(InspectionRoundRow)))


def results_per_target(app: App) -> dict[str, int]:
    with app.store.transaction() as s:
        rows = s.execute(select(CheckResultRow.target, func.count()).group_by(CheckResultRow.target)).all()
    return {str(t): int(n) for t, n in rows}


def test_kill_9_during_a_round_and_during_an_apply(setup: tuple[App, Workers, Path, str, Receiver]) -> None:
    app, workers, marks, vhost, receiver = setup
    assert app.jobs is not None and app.jobs.distributed
    a, b = workers.start("a"), workers.start("b")
    wait_until(lambda: consumers(vhost) >= 2 or None, timeout=120, what=f"two workers\n{workers.tail()}")

    # -- a round: kill -9 the worker 'a' while it holds rounds it has not finished ----------------
    tickets = [Ticket(f"web-{i}", 1) for i in range(TARGETS)]
    app.jobs.submit_rounds(tickets)
    wait_until(lambda: any(r.state == "running" and f"/{a.pid}/" in r.worker for r in rounds(app)) or None,
               timeout=30, what=f"worker a running rounds\n{workers.tail()}")
    workers.kill(a.pid)
    wait_until(lambda: (len(done := [r for r in rounds(app) if r.state == "done"]) == TARGETS and done) or None,
               timeout=45, what=f"every round done after the kill\n{workers.tail()}")
    per_check = len(app.registry.checks_for("http_probe"))
    assert results_per_target(app) == {f"web-{i}": per_check for i in range(TARGETS)}  # each round recorded once
    taken_over = [r for r in rounds(app) if r.attempts > 1]
    assert taken_over and all(f"/{b.pid}/" in r.worker for r in taken_over), workers.tail()

    app.jobs.submit_rounds(tickets)  # the same round handed out again (a restarted scheduler): no-op
    c = workers.start("c")  # and a fresh worker for the apply part
    wait_until(lambda: consumers(vhost) >= 2 or None, timeout=120, what=f"worker c\n{workers.tail()}")
    time.sleep(1.0)
    assert results_per_target(app) == {f"web-{i}": per_check for i in range(TARGETS)}

    # -- the pipeline's tail on the workers: one delivery and one diagnosis, with two workers polling --
    now = datetime.now(UTC)
    with app.store.transaction() as s:
        alerts_repo.insert_events(s, [Alert(labels={"alertname": "DiskFull", "target": "svc", "severity": "critical"},
                                            status=AlertStatus.FIRING, starts_at=now, source="test")], now)
    def disk_full() -> list[Any]:  # (the rounds' slow probes may page about latency too)
        return [r for r in receiver.accepted("webhook") if "DiskFull" in r.text]

    deadline = time.monotonic() + 30
    while not disk_full():
        assert time.monotonic() < deadline, workers.tail()
        app.pipeline.process_sync()  # serve's share: ingest, group, flush into the outbox
        time.sleep(0.2)
    time.sleep(1.5)
    assert len(disk_full()) == 1  # delivered by one worker, not by each
    with app.store.transaction() as s:
        incident = next(a.incident_id for a in s.scalars(select(AlertRow)) if a.labels["alertname"] == "DiskFull")
        diagnoses = select(func.count()).select_from(DiagnosisRow).where(DiagnosisRow.incident_id == incident)
        assert s.scalar(diagnoses) == 1

    # -- an apply: kill -9 the worker running the stop command; it must not be applied again -------
    async def apply_and_kill() -> Any:
        run = await app.executor.propose("service.restart", "svc", {"stop": [str(marks.parent / "scripts/stop.sh")],
                                                                    "start": [str(marks.parent / "scripts/start.sh")]},
                                         "dave")
        assert run.status == "approved"
        waiting = asyncio.create_task(app.jobs.apply(run.id, "dave"))  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while not (marks.exists() and "stop" in marks.read_text()):
            assert time.monotonic() < deadline, workers.tail()
            await asyncio.sleep(0.05)
        holder = int(marks.read_text().split()[1])
        assert holder in (b.pid, c.pid)
        workers.kill(holder)
        return run.id, await asyncio.wait_for(waiting, 40)

    run_id, outcome = asyncio.run(apply_and_kill())
    assert not outcome.ok and outcome.details.get("interrupted") is True, outcome
    time.sleep(3.5)  # the orphaned stop script finishes; nothing may start the service afterwards
    lines = marks.read_text().split("\n")
    assert sum(1 for line in lines if line.startswith("stop ")) == 1
    assert "start" not in lines
    with app.store.transaction() as s:
        row = s.get(ActionRunRow, run_id)
        assert row is not None and row.status == "failed"
    kinds = [e.kind for e in app.audit.entries() if e.subject == f"run {run_id}"]
    assert kinds == ["planned", "apply_started", "apply_interrupted"]
    verdict = app.audit.verify()
    assert verdict.ok, verdict.problems
