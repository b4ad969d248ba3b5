"""Fleet inspection at scale: one round of a large inventory, embedded and on 1, 2 and 4 Celery workers.

    python bench/fleet [--http-targets 5000] [--ssh-hosts 200] [--workers 1 2 4]

The inventory: ``--http-targets`` HTTP-probe targets against one real nginx on loopback (each its own
URL), the real Redis, PostgreSQL and MariaDB on this machine (a few targets each), and
``--ssh-hosts`` host targets, each a port of a real OpenSSH server (sshd listens on at most 16
ports per process, so the ports are spread over ceil(N/16) sshd processes sharing one host key),
logged into with a key and inspected over SSH like any remote host.

Each configuration runs one full round, every target's checks, as the scheduler would once a
minute: ``embedded`` is ``serve``'s in-process scheduler on SQLite (the default); ``celery × N`` is
N ``steadyops worker`` processes on RabbitMQ (a vhost of its own) and PostgreSQL (a database of its
own), the round handed out as tickets. Round time runs from the hand-out until every target's
round is recorded; worker start-up is not counted. Per-worker throughput is each worker's checks
over the round time. Prints a table and a JSON line. On a 2-core machine four workers share two
cores with the nginx, the sshd sessions and the databases they inspect: the curve flattens, and
the table says so rather than hiding it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: tests.harness

from sqlalchemy import func, select

from steadyops.app import App, build_app
from steadyops.config.settings import load_settings
from steadyops.runner.scheduler import Ticket
from steadyops.store.tables import CheckResultRow, InspectionRoundRow
from tests.harness.middleware import ensure_rabbitmq_management, rabbitmq_vhost, start_nginx
from tests.harness.services import free_port
from tests.harness.sshd import CONFIG, SshServer, find_sshd, start_sshd

PG_ADMIN = os.environ.get("STEADYOPS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVICES: list[dict[str, Any]] = [
    *({"name": f"redis-{i}", "kind": "redis", "address": "127.0.0.1:6379"} for i in range(3)),
    *({"name": f"pg-{i}", "kind": "postgres", "address": "127.0.0.1:5432",
       "labels": {"user": "postgres", "database": "postgres"}} for i in range(3)),
    *({"name": f"mariadb-{i}", "kind": "mysql", "address": "127.0.0.1:3306", "labels": {"user": "root"}}
      for i in range(3)),
]
PORTS_PER_SSHD = 16  # sshd's MAX_LISTEN_SOCKS
#: the host checks the SSH hosts run (label inspection_checks). The others (process_fds walks every
#: process's fds under /proc, systemd, clock, ports) would run their remote half on this same machine
#: once per "host": 200 hosts on 2 cores measure the machine, not steadyops. --all-host-checks runs them.
HOST_CHECKS = "host.memory,host.load,host.oom,host.fds,host.disk,host.inodes,host.readonly"


@contextmanager
def ssh_fleet(n: int) -> Iterator[tuple[SshServer, list[int], list[subprocess.Popen[bytes]]]]:
    """One harness sshd (keys, first port) plus sshd processes listening on the other n-1 ports."""
    first = start_sshd()
    procs: list[subprocess.Popen[bytes]] = []
    ports = [first.port]
    try:
        wd = first.workdir
        rest = [free_port() for _ in range(n - 1)]
        for k in range(math.ceil(len(rest) / PORTS_PER_SSHD)):
            chunk = rest[k * PORTS_PER_SSHD:(k + 1) * PORTS_PER_SSHD]
            conf = CONFIG.format(port=chunk[0], host="127.0.0.1", workdir=wd, user=first.user)
            conf = conf.replace(f"Port {chunk[0]}\n", "".join(f"Port {p}\n" for p in chunk))
            conf = conf.replace(f"PidFile {wd}/sshd.pid", f"PidFile {wd}/sshd-{k}.pid")
            conf = conf.replace("MaxStartups 64", "MaxStartups 256")
            path = wd / f"sshd_config.{k}"
            path.write_text(conf)
            log = (wd / f"sshd-{k}.log").open("wb")
            procs.append(subprocess.Popen([find_sshd(), "-D", "-e", "-f", str(path)], stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT))
            ports.extend(chunk)
        time.sleep(1.0)
        dead = [p.args for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"sshd failed to start: {dead}")
        yield first, ports, procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        first.stop()


def inventory(http_port: int, n_http: int, ssh: SshServer, ports: list[int], known_hosts: Path,
              host_checks: str = HOST_CHECKS) -> list[Any]:
    probes = [{"name": f"web-{i:05d}", "kind": "http_probe", "address": f"http://127.0.0.1:{http_port}/t/{i}",
               "labels": {"tries": "1", "expect_keyword": "nginx"}} for i in range(n_http)]
    hosts = [{"name": f"host-{i:03d}", "kind": "host", "address": f"127.0.0.1:{port}",
              "labels": {"ssh_user": ssh.user, "known_hosts": str(known_hosts),
                         **({"inspection_checks": host_checks} if host_checks else {})},
              "credentials": f"file:{ssh.client_key}"} for i, port in enumerate(ports)]
    return probes + hosts + SERVICES


def database() -> tuple[str, Any]:
    import psycopg

    name = f"steadyops_fleet_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", lambda: admin.execute(drop)


def statuses(app: App) -> dict[str, int]:
    with app.store.transaction() as s:
        rows = s.execute(select(CheckResultRow.status, func.count()).group_by(CheckResultRow.status)).all()
    return {str(k): int(v) for k, v in rows}


async def embedded_round(app: App) -> float:
    """serve's scheduler with every target due at once: gates then the rest, recorded as they come."""
    assert app.scheduler is not None
    plans = app.scheduler.rounds()
    t0 = time.perf_counter()
    await asyncio.gather(*(app.scheduler.run_round(p) for p in plans))
    wall = time.perf_counter() - t0
    await app.shutdown()  # close the SSH logins before the next mode opens its own
    return wall


def run_embedded(base: dict[str, Any], tmp: Path) -> dict[str, Any]:
    config = {**base, "data_dir": str(tmp / "embedded")}
    path = tmp / "embedded.yaml"
    path.write_text(yaml.safe_dump(config))
    app = build_app(load_settings(path))
    try:
        wall = asyncio.run(embedded_round(app))
        counts = statuses(app)
    finally:
        app.close()
    checks = sum(counts.values())
    return {"mode": "embedded (SQLite)", "workers": 1, "checks": checks, "round_s": round(wall, 1),
            "checks_per_s": round(checks / wall, 1), "per_worker": [round(checks / wall, 1)], "status": counts}


def run_celery(base: dict[str, Any], tmp: Path, workers: int, threads: int) -> dict[str, Any]:
    url, drop = database()
    try:
        with rabbitmq_vhost() as vhost:
            config = {**base, "data_dir": str(tmp / f"celery{workers}"), "database_url": url,
                      "runner": {"engine": "celery", "queue": "fleet", "batch": 25, "worker_threads": threads,
                                 "broker_url": f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"}}
            path = tmp / f"celery{workers}.yaml"
            path.write_text(yaml.safe_dump(config))
            app = build_app(load_settings(path))
            env = {**os.environ, "STEADYOPS_CONFIG": str(path)}
            procs = [subprocess.Popen([sys.executable, "-c", "from steadyops.cli import main; main()", "worker",
                                       "--name", f"w{i}@fleet", "--log-level", "warning"], env=env,
                                      stdout=(tmp / f"w{workers}-{i}.log").open("wb"), stderr=subprocess.STDOUT)
                     for i in range(workers)]
            try:
                wait_consumers(vhost, workers)
                assert app.jobs is not None
                tickets = [Ticket(name, 1) for name in app.inventory.targets]
                t0 = time.perf_counter()
                app.jobs.submit_rounds(tickets)
                while True:
                    with app.store.transaction() as s:
                        done = s.scalar(select(func.count()).select_from(InspectionRoundRow)
                                        .where(InspectionRoundRow.state == "done")) or 0
                    if done >= len(tickets):
                        break
                    if any(p.poll() is not None for p in procs):
                        raise RuntimeError("a worker exited: " + (tmp / f"w{workers}-0.log").read_text()[-2000:])
                    time.sleep(0.2)
                wall = time.perf_counter() - t0
                counts = statuses(app)
                per = per_worker(app)
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    try:
                        p.wait(15)
                    except subprocess.TimeoutExpired:
                        p.kill()
                app.close()
    finally:
        drop()
    checks = sum(counts.values())
    return {"mode": f"celery × {workers}", "workers": workers, "checks": checks, "round_s": round(wall, 1),
            "checks_per_s": round(checks / wall, 1), "per_worker": [round(n / wall, 1) for n in per],
            "status": counts}


def per_worker(app: App) -> list[int]:
    """Checks each worker process recorded (claims name host/pid/attempt; a target's checks by its kind)."""
    assert app.scheduler is not None
    kinds = {t.name: len(p.gates) + len(p.rest) for t in app.inventory.targets.values()
             if (p := app.scheduler.plan_for(t)) is not None}
    by: Counter[str] = Counter()
    with app.store.transaction() as s:
        for target, worker in s.execute(select(InspectionRoundRow.target, InspectionRoundRow.worker)):
            by["/".join(str(worker).split("/")[:2])] += kinds.get(str(target), 0)
    return sorted(by.values(), reverse=True)


def wait_consumers(vhost: str, n: int, timeout: float = 120.0) -> None:
    import httpx

    api = ensure_rabbitmq_management()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = httpx.get(f"{api}/api/queues/{quote(vhost, safe='')}/fleet", auth=("guest", "guest"), timeout=5)
        if got.status_code == 200 and int(got.json().get("consumers", 0)) >= n:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{n} workers did not start consuming within {timeout:g}s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--http-targets", type=int, default=5000)
    ap.add_argument("--ssh-hosts", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--threads", type=int, default=4, help="messages each worker works on at once")
    ap.add_argument("--concurrency", type=int, default=16, help="checks at once per process (inspection.concurrency)")
    ap.add_argument("--no-embedded", action="store_true")
    ap.add_argument("--all-host-checks", action="store_true", help="every host check on SSH hosts")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="steadyops-fleet-"))
    results: list[dict[str, Any]] = []
    try:
        with start_nginx(worker_connections=4096) as web, ssh_fleet(args.ssh_hosts) as (ssh, ports, _procs):
            known = tmp / "known_hosts"
            known.write_text("".join(ssh.known_hosts_line().replace(f"]:{ssh.port} ", f"]:{p} ") for p in ports))
            inv = tmp / "inventory.yaml"
            inv.write_text(yaml.safe_dump({"targets": inventory(web.port, args.http_targets, ssh, ports, known,
                                                                 "" if args.all_host_checks else HOST_CHECKS)}))
            base = {"inventory": str(inv), "lang": "en",
                    "inspection": {"interval": "60s", "concurrency": args.concurrency, "per_target": 4}}
            n = args.http_targets + len(ports) + len(SERVICES)
            print(f"fleet benchmark: {n} targets ({args.http_targets} HTTP probes on one nginx, {len(ports)} SSH "
                  f"hosts on {1 + math.ceil((len(ports) - 1) / PORTS_PER_SSHD)} sshd processes, {len(SERVICES)} "
                  f"Redis/PostgreSQL/MariaDB); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
            if not args.all_host_checks:
                print(f"SSH hosts run {HOST_CHECKS} (every host is this machine: see HOST_CHECKS)", flush=True)
            if not args.no_embedded:
                results.append(run_embedded(base, tmp))
                results[-1]["load_after"] = round(os.getloadavg()[0], 1)
                print(f"  {results[-1]['mode']}: {results[-1]['round_s']} s, load {results[-1]['load_after']}",
                      flush=True)
            for w in args.workers:
                results.append(run_celery(base, tmp, w, args.threads))
                results[-1]["load_after"] = round(os.getloadavg()[0], 1)
                print(f"  {results[-1]['mode']}: {results[-1]['round_s']} s, load {results[-1]['load_after']}",
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ref = results[0]["checks_per_s"]
    print(f"\n{'mode':<20}{'checks':>8}{'round s':>9}{'checks/s':>10}{'vs first':>9}{'fits 60 s':>10}"
          f"{'load':>6}  per-worker checks/s")
    for r in results:
        print(f"{r['mode']:<20}{r['checks']:>8}{r['round_s']:>9}{r['checks_per_s']:>10}"
              f"{r['checks_per_s'] / ref:>8.2f}x{'yes' if r['round_s'] <= 60 else 'NO':>10}{r['load_after']:>6}  "
              + " ".join(str(x) for x in r["per_worker"]))
    print("statuses: " + "; ".join(f"{r['mode']}: {r['status']}" for r in results))
    print(f"(all processes share {os.cpu_count()} CPUs with nginx, the sshd sessions and the databases inspected)")
    print(json.dumps({"benchmark": "fleet", "http_targets": args.http_targets, "ssh_hosts": len(ports),
                      "cpus": os.cpu_count(), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
