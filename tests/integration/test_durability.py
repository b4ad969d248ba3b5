"""Durability with a real process: SIGKILL steadyops while alerts stream in, restart, lose nothing.

A client thread streams small batches of distinct alerts; the server is killed with SIGKILL (no
shutdown hook, no flush) in the middle of the stream and restarted on the same store. Then:

* every alert that got a 2xx is stored (persist first: the answer comes after the commit);
* the group timer armed before the crash resumes: the group's one notification arrives
  ``group_wait`` after the group was created, not ``group_wait`` after the restart;
* nothing is notified twice, in the receiver or in the notification log.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from steadyops.store import Store
from steadyops.store.tables import AlertEventRow
from steadyops.testing.receiver import Receiver
from tests.harness.services import Services, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GROUP_WAIT = 10.0
# A timer re-armed by the restart could not fire before kill + GROUP_WAIT = due + STREAM_BEFORE_KILL:
# that margin is what the timer check has to spare on a loaded machine.
STREAM_BEFORE_KILL = 4.0
BATCH = 5
MAX_ALERTS = 4000  # GET /api/v1/alerts answers up to 5000
# alerts/s. Paced so the journal backlog at the kill stays small: the pipeline drains the journal
# before it flushes timers (a few hundred alerts/s today, less on a loaded machine), and this test
# is about the timer surviving the crash, not about how long a backlog takes to drain.
MAX_RATE = 60.0
ALERTNAME = "DurabilityProbe"


@dataclass
class Stream:
    """Posts batches of distinct alerts until stopped or the server stops answering."""

    url: str
    token: str | None
    acked: set[int] = field(default_factory=set)
    first_ack_at: float | None = None
    failures: int = 0
    rejected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    next_seq: int = 0

    def batch(self) -> list[int]:
        seqs = list(range(self.next_seq, self.next_seq + BATCH))
        self.next_seq += BATCH
        return seqs

    def post(self, client: httpx.Client, seqs: list[int]) -> bool:
        body = {"source": "durability", "alerts": [
            {"labels": {"alertname": ALERTNAME, "seq": str(s), "instance": f"host-{s % 50}"},
             "annotations": {"summary": f"probe {s}"}}
            for s in seqs
        ]}
        try:
            resp = client.post("/api/v1/alerts", json=body)
        except httpx.HTTPError:
            self.failures += 1
            return False
        if resp.status_code // 100 != 2:
            self.rejected.append(f"HTTP {resp.status_code}: {resp.text[:200]}")
            return False
        self.acked.update(seqs)
        if self.first_ack_at is None:
            self.first_ack_at = time.time()
        return True

    def run(self) -> None:
        started = time.monotonic()
        with httpx.Client(base_url=self.url, timeout=5, headers={"Authorization": f"Bearer {self.token}"}) as client:
            while not self.stop.is_set() and self.next_seq < MAX_ALERTS:
                if not self.post(client, self.batch()):
                    return  # the server is gone: whatever was in flight was never acknowledged
                ahead = self.next_seq / MAX_RATE - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)


def _stored_seqs(api: httpx.Client) -> set[int]:
    rows = api.get("/api/v1/alerts", params={"limit": 5000}).raise_for_status().json()
    return {int(r["labels"]["seq"]) for r in rows if r["labels"].get("alertname") == ALERTNAME}


def _journal_seqs(url: str) -> set[int]:
    """Straight from the intake journal, not through the API."""
    store = Store(url, run_migrations=False)
    try:
        with store.transaction() as session:
            rows = session.scalars(select(AlertEventRow.labels))
            return {int(labels["seq"]) for labels in rows if labels.get("alertname") == ALERTNAME}
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store under test. Set up before ``services``, so the server stops before the database goes."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("fresh_pg_url")
        return url
    return f"sqlite:///{(tmp_path / 'data' / 'steadyops.db').as_posix()}"


def test_sigkill_mid_stream_loses_nothing_and_timers_resume(
    store_url: str, services: Services, receiver: Receiver, tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    db_url = store_url
    env = {"STEADYOPS_DATABASE_URL": db_url} if db_url.startswith("postgresql") else {}
    config: dict[str, Any] = {
        "route": {"receiver": "ops", "group_by": ["alertname"], "group_wait": f"{GROUP_WAIT:g}s",
                  "group_interval": "1h", "repeat_interval": "1h"},
        "receivers": [{"name": "ops", "channels": [{"type": "webhook", "url": receiver.url("webhook")}]}],
        "lang": "en",
    }

    app = services.steadyops(config, data_dir=data_dir, env=env)
    stream = Stream(app.url, app.token)
    worker = threading.Thread(target=stream.run, name="alert-stream", daemon=True)
    worker.start()
    wait_until(lambda: stream.first_ack_at, timeout=30, what="the first acknowledged batch", logs=[app])
    assert stream.first_ack_at is not None
    time.sleep(STREAM_BEFORE_KILL)
    app.kill()  # SIGKILL in the middle of the stream
    killed_at = time.time()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert not stream.rejected, stream.rejected
    assert stream.acked, "no batch was acknowledged before the kill"
    assert len(stream.acked) < MAX_ALERTS, "the stream finished before the kill; raise MAX_ALERTS"
    assert not receiver.requests, "the group notified before group_wait elapsed"

    app = services.steadyops(config, data_dir=data_dir, env=env, port=app.port)
    restarted_at = time.time()
    api = httpx.Client(base_url=app.url, timeout=10, headers={"Authorization": f"Bearer {app.token}"})

    # Every acknowledged alert is in the journal, and the pipeline catches up on all of them.
    assert stream.acked <= _journal_seqs(db_url)

    def caught_up() -> set[int] | None:
        seqs = _stored_seqs(api)
        return seqs if seqs >= stream.acked else None

    stored = wait_until(caught_up, timeout=30, what="every acknowledged alert to be processed", logs=[app])
    assert stream.acked <= stored

    def drained() -> float | None:
        stats = api.get("/api/v1/stats").raise_for_status().json()
        return time.time() if stats["pending_journal"] == 0 else None

    drained_at = wait_until(drained, timeout=30, what="the journal backlog to drain", logs=[app])

    # The timer armed before the crash fires on its original schedule: not before it is due, and
    # before a timer re-armed by the restart could possibly fire (kill + GROUP_WAIT).
    [note] = receiver.wait_for(1, timeout=GROUP_WAIT + 30, vendor="webhook")
    due = stream.first_ack_at + GROUP_WAIT
    assert note.received_at >= due - 0.5, "notified before group_wait had elapsed"
    assert note.received_at < killed_at + GROUP_WAIT, (
        f"the group timer did not resume: due {due - killed_at:+.1f}s after the kill, notified "
        f"{note.received_at - killed_at:+.1f}s after it (restart ready at {restarted_at - killed_at:+.1f}s, "
        f"backlog drained at {drained_at - killed_at:+.1f}s)"
    )
    payload = note.json()
    assert payload["status"] == "firing"
    fingerprints = [a["fingerprint"] for a in payload["alerts"]]
    assert len(fingerprints) == len(set(fingerprints)) == min(100, len(stored))

    # Nothing twice: one message at the receiver, one decision in the notification log.
    time.sleep(2.0)
    assert len(receiver.requests) == 1
    log = api.get("/api/v1/notifications", params={"limit": 1000}).raise_for_status().json()
    assert [(n["status"], n["channel_type"]) for n in log] == [("sent", "webhook")]
    api.close()
