"""Connected-but-stuck faults on real servers this test starts itself: each asserts the finding, its
layer, and (where it matters) what the diagnosis concludes, cites and proposes.

| fault injected                                         | expected                                          |
|--------------------------------------------------------|---------------------------------------------------|
| redis-server SIGSTOPped                                | redis.ping CRITICAL, process (hung), not network  |
| redis-server --maxclients 2, two clients held          | redis.ping + redis.clients CRITICAL, capacity     |
| ZooKeeper SIGSTOPped, then its accept backlog filled   | ruok / port CRITICAL process; dataDir still found |
| ZooKeeper dataDir on a tmpfs remounted read-only       | zookeeper.disk CRITICAL disk (also while hung)    |
| nginx proxying to a closed port / a too slow upstream  | nginx.http CRITICAL 502 / 504, layer upstream     |
| 1.5 s slow app behind a healthy nginx, probed outside  | diagnosis: the app first, through nginx           |
| a child at its own RLIMIT_NOFILE (64)                  | host.process_fds CRITICAL capacity, names the pid |
| a data tmpfs remounted read-only (writable_mounts)     | host.readonly CRITICAL disk; no clean-up proposed |
| mariadbd SIGSTOPped                                    | mysql.connect CRITICAL process (hung)             |
| a listener that accepts and never answers (pg / mysql) | *.connect CRITICAL process, not network           |
| the same for an HTTP app                               | http_probe.status CRITICAL process after one try  |

Never the shared machine services: every server here is private, on a free loopback port.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckStatus, Finding
from steadyops.integrations import host, http_probe, mysql, nginx, postgres, zookeeper
from steadyops.integrations import redis as redis_plugin
from steadyops.integrations.host.checks_proc import ProcessFdsCheck
from steadyops.integrations.zookeeper.diagnose import zk_inspect
from steadyops.pipeline import diagnose
from steadyops.plugins import Registry
from steadyops.runner.checks import CheckRunner
from steadyops.store import incidents as incidents_repo
from tests.harness.middleware import HttpServer, start_mariadb, start_nginx, start_redis
from tests.harness.services import ServiceMissing, free_port, unavailable
from tests.harness.zookeeper import find_zookeeper_classpath, small_filesystem, start_standalone

pytestmark = pytest.mark.integration

OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def registry() -> Registry:
    reg = Registry()
    for plugin in (redis_plugin, zookeeper, nginx, http_probe, host, mysql, postgres):
        plugin.register(reg)
    return reg


async def inspect(make_app: Any, clock: FakeClock, *targets: Target) -> dict[tuple[str, str], Finding]:
    runner = CheckRunner(registry(), Inventory(targets), make_app().store, clock)
    _, found = await runner.inspect(runner.jobs(kinds=sorted({t.kind for t in targets})))
    clock.advance(1)
    return {(f.check, f.target): f for f in found}


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """SIGSTOP a process *we started*, and always SIGCONT it again."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def fill_backlog(port: int, limit: int = 400) -> list[socket.socket]:
    """Connect until the kernel stops completing handshakes: the listener's accept queue is full."""
    held: list[socket.socket] = []
    for _ in range(limit):
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            return held
        held.append(s)
    return held


# --------------------------------------------------------------------------------------------- Redis

def _redis(*extra: str) -> Any:
    try:
        return start_redis(*extra)
    except ServiceMissing as exc:
        unavailable(exc)


async def test_redis_sigstopped_is_a_hung_process_not_the_network(make_app: Any, fake_clock: FakeClock) -> None:
    with _redis() as server:
        target = Target(name="redis-hung", kind="redis", address=server.address, labels={"timeout": "1"})
        with stopped(server.proc.pid):
            t0 = time.monotonic()
            found = await inspect(make_app, fake_clock, target)
            took = time.monotonic() - t0
    ping = found["redis.ping", "redis-hung"]
    assert ping.status is CRIT and ping.layer == "process", ping.summary
    assert all(f.layer == "process" for f in found.values() if f.status is not OK)
    assert took < 15  # short per-question timeouts: seconds, not a backlog's worth of waiting


async def test_redis_at_maxclients_is_capacity_with_the_refusal_as_evidence(make_app: Any,
                                                                            fake_clock: FakeClock) -> None:
    with _redis("--maxclients", "2") as server:
        held = [redis.Redis(port=server.port) for _ in range(2)]
        try:
            for c in held:
                c.ping()
            target = Target(name="redis-full", kind="redis", address=server.address)
            found = await inspect(make_app, fake_clock, target)
        finally:
            for c in held:
                c.close()
    ping, clients = found["redis.ping", "redis-full"], found["redis.clients", "redis-full"]
    assert (ping.status, ping.layer) == (CRIT, "capacity") and "max number of clients reached" in ping.summary
    assert (clients.status, clients.layer) == (CRIT, "capacity")
    assert not [f for f in found.values() if f.layer == "network"]  # never "network" with everything UNKNOWN


# ----------------------------------------------------------------------------------------- ZooKeeper

def _need_zookeeper() -> None:
    try:
        find_zookeeper_classpath()
    except ServiceMissing as exc:
        unavailable(exc)


async def test_zookeeper_sigstopped_is_process_even_once_its_backlog_is_full(make_app: Any,
                                                                            fake_clock: FakeClock) -> None:
    _need_zookeeper()
    with start_standalone() as zk:
        node = zk.nodes[0]
        assert node.proc is not None
        target = Target(name="zk-hung", kind="zookeeper", address=node.address, labels={"timeout": "1"})
        runner = CheckRunner(registry(), Inventory([target]), make_app().store, fake_clock)
        with stopped(node.proc.pid):
            early = await zk_inspect(runner, include_host=False)
            held = fill_backlog(node.client_port)
            assert len(held) < 400  # the kernel stopped completing handshakes: the queue is full
            try:
                late = await zk_inspect(runner, include_host=False)
            finally:
                for s in held:
                    s.close()
    for report in (early, late):
        (t,) = report.targets
        assert (t.layer, t.status) == ("process", CRIT), report.render("en")
    by = {f.check: f for f in late.findings}
    assert by["zookeeper.port"].status is CRIT and "accept" in by["zookeeper.port"].summary
    # the data dirs come from the process's zoo.cfg though conf gets no answer: judged, not UNKNOWN
    assert by["zookeeper.disk"].status is OK, by["zookeeper.disk"].summary


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    try:
        with small_filesystem(tmp_path / "zkdata", "20m") as mount:
            yield mount
    except ServiceMissing as exc:
        unavailable(exc)


def _remount(path: Path, mode: str) -> None:
    done = subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], capture_output=True, text=True,
                          timeout=10, check=False)
    if done.returncode != 0:
        unavailable(ServiceMissing(f"cannot remount {path} {mode}: {done.stderr.strip()}"))


async def test_zookeeper_read_only_data_dir_is_the_disk(small_fs: Path, make_app: Any, fake_clock: FakeClock) -> None:
    _need_zookeeper()
    with start_standalone(data_dir=small_fs) as zk:
        node = zk.nodes[0]
        assert node.proc is not None
        target = Target(name="zk-ro", kind="zookeeper", address=node.address, labels={"timeout": "1"})
        runner = CheckRunner(registry(), Inventory([target]), make_app().store, fake_clock)
        _remount(small_fs, "ro")
        try:
            answering = await zk_inspect(runner, include_host=False)
            with stopped(node.proc.pid):  # and when it cannot be asked any more
                hung = await zk_inspect(runner, include_host=False)
        finally:
            _remount(small_fs, "rw")
    for report in (answering, hung):
        disk = {f.check: f for f in report.findings}["zookeeper.disk"]
        assert (disk.status, disk.layer) == (CRIT, "disk") and "read-only" in disk.summary, disk.summary
        assert disk.metrics.get("read_only") == 1.0
        (t,) = report.targets
        assert t.layer == "disk", report.render("en")


# ------------------------------------------------------------------------------------ nginx + upstream

def _nginx(**kw: Any) -> Any:
    try:
        return start_nginx(**kw)
    except ServiceMissing as exc:
        unavailable(exc)


async def test_nginx_502_and_504_point_at_the_upstream_and_diagnosis_does_not_blame_nginx(
        make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    with _nginx(upstream=f"http://127.0.0.1:{dead}", proxy_timeout=1) as web:
        t = Target(name="web-1", kind="nginx", address=web.address, labels={"url": f"http://{web.address}/app/"})
        found = await inspect(make_app, fake_clock, t)
        inv = tmp_path / "inv.yaml"
        inv.write_text(f"targets:\n  - {{name: web-1, kind: nginx, address: '{web.address}', "
                       f"labels: {{url: 'http://{web.address}/app/'}}}}\n", encoding="utf-8")
        app = make_app(registry=registry(), inventory=inv,
                       route={"group_by": ["alertname"], "group_wait": 0, "group_interval": 1,
                              "repeat_interval": 3600})
        await app.checks.inspect(app.checks.jobs())
        app.pipeline.process_sync()
        with app.store.transaction() as s:
            diags = [d for r in incidents_repo.list_rows(s) if (d := diagnose.latest(s, r.id, "deterministic"))]
    http = found["nginx.http", "web-1"]
    assert (http.status, http.layer) == (CRIT, "upstream") and "502" in http.summary
    assert found["nginx.stub_status", "web-1"].status is OK  # nginx itself is fine
    assert diags and all(d.candidates[0].get("via") == "upstream" for d in diags), [d.summary for d in diags]
    assert all("nginx-down" not in r["source"] for d in diags for r in d.runbooks)
    assert not [a for d in diags for a in d.actions]  # nginx is up: restarting it fixes nothing

    with HttpServer() as app_server, _nginx(upstream=app_server.url, proxy_timeout=0.5) as web:
        t = Target(name="web-2", kind="nginx", address=web.address,
                   labels={"url": f"http://{web.address}/app/slow/1500"})
        http = (await inspect(make_app, fake_clock, t))["nginx.http", "web-2"]
    assert (http.status, http.layer) == (CRIT, "upstream") and "504" in http.summary


async def test_a_slow_app_behind_a_healthy_nginx_ranks_first(make_app: Any, tmp_path: Path) -> None:
    with HttpServer() as app_server, _nginx(upstream=app_server.url) as web:
        slow = {"latency_warn_ms": "400", "latency_crit_ms": "1000", "tries": "2", "timeout": "5"}
        inv = tmp_path / "inv.yaml"
        inv.write_text(
            "targets:\n"
            f"  - {{name: shop-probe, kind: http_probe, address: 'http://{web.address}/app/slow/1200', "
            f"depends_on: [web-1], labels: {slow}}}\n"
            f"  - {{name: web-1, kind: nginx, address: '{web.address}', depends_on: [app-1]}}\n"
            f"  - {{name: app-1, kind: http_probe, address: '{app_server.url}/slow/1200', labels: {slow}}}\n",
            encoding="utf-8")
        app = make_app(registry=registry(), inventory=inv,
                       route={"group_by": ["alertname"], "group_wait": 0, "group_interval": 1,
                              "repeat_interval": 3600})
        await app.checks.inspect(app.checks.jobs())
        app.pipeline.process_sync()
        with app.store.transaction() as s:
            diags = [d for r in incidents_repo.list_rows(s) if (d := diagnose.latest(s, r.id, "deterministic"))]
    best = max(diags, key=lambda d: len(d.evidence))
    assert best.candidates[0]["target"] == "app-1" and not best.inconclusive, best.candidates
    assert all("tls" not in r["source"] and "nginx" not in r["source"] for r in best.runbooks)


# --------------------------------------------------------------------------------------------- host

def test_a_process_at_its_own_fd_limit_is_visible(tmp_path: Path) -> None:
    import asyncio

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    code = ("import os, sys, time\nfds = []\ntry:\n    while True:\n"
            "        fds.append(os.open(os.devnull, os.O_RDONLY))\n"
            "except OSError:\n    pass\nprint(len(fds), flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, preexec_fn=limit)
    try:
        assert child.stdout is not None and int(child.stdout.readline()) > 50  # it hit EMFILE
        result = asyncio.run(ProcessFdsCheck().run(Target(name="here", kind="host", address="",
                                                          labels={"transport": "local"})))
    finally:
        child.kill()
        child.wait()
    assert (result.status, result.layer) == (CRIT, "capacity"), result.summary
    assert any(f"pid {child.pid} (python" in e.detail and "of 64 fds" in e.detail for e in result.evidence), \
        result.evidence


def test_a_data_mount_gone_read_only_is_the_disk(small_fs: Path) -> None:
    import asyncio

    from steadyops.contracts.actions import Symptom
    from steadyops.integrations.host.actions import CleanLogs
    from steadyops.integrations.host.checks_mounts import ReadOnlyCheck

    target = Target(name="here", kind="host", address="", labels={"transport": "local",
                                                                 "writable_mounts": str(small_fs)})
    before = asyncio.run(ReadOnlyCheck().run(target))
    _remount(small_fs, "ro")
    try:
        after = asyncio.run(ReadOnlyCheck().run(target))
    finally:
        _remount(small_fs, "rw")
    assert before.status is OK
    assert (after.status, after.layer) == (CRIT, "disk") and str(small_fs) in after.summary
    assert not CleanLogs.can_remedy(Symptom("host.readonly", "host", CRIT, "disk"))  # deleting logs cannot help


# ------------------------------------------------------------------------------------ databases

async def test_mariadb_sigstopped_is_a_hung_process(make_app: Any, fake_clock: FakeClock) -> None:
    try:
        server = start_mariadb()
    except ServiceMissing as exc:
        unavailable(exc)
    with server:
        target = Target(name="db-hung", kind="mysql", address=server.address, labels={"timeout": "1"})
        with stopped(server.proc.pid):
            found = await inspect(make_app, fake_clock, target)
    connect = found["mysql.connect", "db-hung"]
    assert (connect.status, connect.layer) == (CRIT, "process"), connect.summary
    assert not [f for f in found.values() if f.layer == "network"]


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A port that listens and never accepts: the kernel completes handshakes, nobody ever answers."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        yield srv.getsockname()[1]


@pytest.mark.parametrize(("kind", "check"), [("postgres", "postgres.connect"), ("mysql", "mysql.connect")])
async def test_a_server_that_accepts_and_never_answers_is_the_process(kind: str, check: str, make_app: Any,
                                                                     fake_clock: FakeClock) -> None:
    with silent_listener() as port:
        target = Target(name=f"{kind}-silent", kind=kind, address=f"127.0.0.1:{port}", labels={"timeout": "1"})
        found = await inspect(make_app, fake_clock, target)
    result = found[check, f"{kind}-silent"]
    assert (result.status, result.layer) == (CRIT, "process"), result.summary


async def test_an_http_app_that_never_answers_is_hung_after_one_timeout(make_app: Any, fake_clock: FakeClock) -> None:
    with silent_listener() as port:
        target = Target(name="app-hung", kind="http_probe", address=f"http://127.0.0.1:{port}/",
                        labels={"timeout": "1", "tries": "3"})
        found = await inspect(make_app, fake_clock, target)
    status = found["http_probe.status", "app-hung"]
    assert (status.status, status.layer) == (CRIT, "process"), status.summary
    assert status.metrics["tries"] == 1  # not three timeouts in a row before anyone hears of it
