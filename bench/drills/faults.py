"""The faults: what each drill breaks, what the right answer is, and how it is put right.

``remedy`` names how recovery goes: ``service.restart`` (approved and applied through the API with
the allow-listed ctl scripts), ``磁盘清理`` (the operator command, its plan approved), or ``None``
(no action fits — the drill undoes the fault itself and the table says so).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import psycopg
import pymysql
import redis as redis_lib

from harness import Env
from tests.harness.zookeeper import four_letter_word


@dataclass
class Drill:
    name: str
    what: str
    target: str  # the right top-1
    layer: str  # the layer the fault is in
    inject: Callable[[Env], None]
    undo: Callable[[Env], None]
    remedy: str | None = None
    health_check: str | None = None
    zk: bool = False
    settle: Callable[[Env], None] = field(default=lambda env: None)


# -- helpers --------------------------------------------------------------------------------------
def _zk_write(port: int, n: int, size: int = 2048) -> None:
    """``n`` real znode creates through the ZooKeeper wire protocol (no client library needed)."""
    import struct

    def frame(body: bytes) -> bytes:
        return struct.pack(">i", len(body)) + body

    def string(text: bytes) -> bytes:
        return struct.pack(">i", len(text)) + text

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame(struct.pack(">iqiq", 0, 0, 30000, 0) + string(b"\0" * 16)))
        _read_frame(sock)
        acl = struct.pack(">i", 1) + struct.pack(">i", 31) + string(b"world") + string(b"anyone")
        stamp = int(time.time() * 1000)
        for i in range(n):
            path = f"/drill-{stamp}-{i}".encode()
            body = struct.pack(">ii", i + 1, 1) + string(path) + string(os.urandom(size)) + acl + struct.pack(">i", 0)
            sock.sendall(frame(body))
            _read_frame(sock)


def _read_frame(sock: socket.socket) -> bytes:
    import struct

    def exact(k: int) -> bytes:
        data = b""
        while len(data) < k:
            chunk = sock.recv(k - len(data))
            if not chunk:
                raise ConnectionError("ZooKeeper closed the connection")
            data += chunk
        return data

    (length,) = struct.unpack(">i", exact(4))
    return exact(length)


def _zk_fill(env: Env) -> None:
    """Real txn logs and snapshots until the data disk is past the critical threshold."""
    st = os.statvfs(env.zk_data)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _zk_write(env.zk.port, 40)
        st = os.statvfs(env.zk_data)
        used = 100 * (1 - st.f_bavail / st.f_blocks)
        if used >= 70:
            return


def _wait_zk(env: Env) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if four_letter_word(env.zk.port, "ruok", timeout=1.0) == "imok":
                return
        except OSError:
            pass
        time.sleep(0.3)


def _zk_continue(env: Env) -> None:
    env.zk.signal(signal.SIGCONT)
    _wait_zk(env)


def _zk_start(env: Env) -> None:
    env.zk.stop()
    env.zk.start()
    _wait_zk(env)


def _redis_maxclients(env: Env) -> None:
    """maxclients lowered to 4 through a control connection that is kept, then clients pile up."""
    control = redis_lib.Redis(port=env.redis.port, socket_timeout=2, single_connection_client=True)
    control.ping()
    control.config_set("maxclients", 4)
    env.held.append(control)
    for _ in range(6):
        try:
            c = redis_lib.Redis(port=env.redis.port, socket_timeout=2, single_connection_client=True)
            c.ping()
        except redis_lib.RedisError:
            continue  # the table is full: that is the fault
        env.held.append(c)


def _redis_maxclients_undo(env: Env) -> None:
    env.held[0].config_set("maxclients", 10000)
    env.release()


def _mariadb_exhaust(env: Env) -> None:
    host, port = env.mariadb.address.split(":")
    for _ in range(12):
        try:
            env.held.append(pymysql.connect(host=host, port=int(port), user="root", connect_timeout=2))
        except pymysql.MySQLError:
            break


def _pg_exhaust(env: Env) -> None:
    """Every non-reserved connection of the private server taken (as a runaway pool would)."""
    for _ in range(25):
        try:
            env.held.append(psycopg.connect(host="127.0.0.1", port=env.pg.port, user="app_pool", dbname="postgres",
                                            connect_timeout=2))
        except psycopg.OperationalError:
            break


def _rabbit(env: Env) -> httpx.Client:
    return httpx.Client(base_url=env.rabbit_api, auth=("guest", "guest"), timeout=10)


def _rabbit_backlog(env: Env) -> None:
    """A queue that fills while nobody consumes it (through the management API: no AMQP client needed)."""
    vhost = quote(env.vhost, safe="")
    with _rabbit(env) as http:
        http.put(f"/api/queues/{vhost}/drill.orders", json={"durable": False}).raise_for_status()
        for i in range(50):
            http.post(f"/api/exchanges/{vhost}/amq.default/publish",
                      json={"properties": {}, "routing_key": "drill.orders", "payload": f"order {i}",
                            "payload_encoding": "string"}).raise_for_status()


def _rabbit_drain(env: Env) -> None:
    with _rabbit(env) as http:
        http.delete(f"/api/queues/{quote(env.vhost, safe='')}/drill.orders")


def _host_fill(env: Env) -> None:
    logs = env.host_disk / "logs"
    logs.mkdir(exist_ok=True)
    st = os.statvfs(env.host_disk)
    size = int(st.f_blocks * st.f_frsize * 0.97)
    with (logs / "app.log.1").open("wb") as fh:
        fh.write(b"x" * size)
    old = time.time() - 3 * 86400
    os.utime(logs / "app.log.1", (old, old))


def _host_clear(env: Env) -> None:
    for p in (env.host_disk / "logs").glob("*"):
        p.unlink(missing_ok=True)


def _zk_readonly(env: Env) -> None:
    """The data disk goes read-only (as the kernel does on I/O errors) and ZooKeeper dies with it:
    it is restarted by its supervisor and cannot come up. A tmpfs cannot be remounted read-only
    while a file on it is open for writing, hence kill → remount → start."""
    env.zk.stop()
    subprocess.run(["mount", "-o", "remount,ro", str(env.zk_data)], check=True, capture_output=True)
    env.zk.start()


def _zk_readwrite(env: Env) -> None:
    subprocess.run(["mount", "-o", "remount,rw", str(env.zk_data)], check=True, capture_output=True)
    _zk_start(env)


DRILLS: list[Drill] = [
    Drill("redis-dead", "redis-server killed (SIGKILL)", "cache", "process",
          lambda e: e.redis.signal(signal.SIGKILL), lambda e: e.redis.start(),
          remedy="service.restart", health_check="redis.ping"),
    Drill("redis-hung", "redis-server frozen (SIGSTOP), port still open", "cache", "process",
          lambda e: e.redis.signal(signal.SIGSTOP), lambda e: e.redis.signal(signal.SIGCONT),
          remedy="service.restart", health_check="redis.ping"),
    Drill("redis-maxclients", "Redis at maxclients (4), connections held", "cache", "capacity",
          _redis_maxclients, _redis_maxclients_undo),
    Drill("zk-hung", "ZooKeeper frozen (SIGSTOP), port still open", "zk1", "process",
          lambda e: e.zk.signal(signal.SIGSTOP), _zk_continue,
          remedy="service.restart", health_check="zookeeper.ruok", zk=True, settle=_wait_zk),
    Drill("zk-dead", "ZooKeeper killed (SIGKILL)", "zk1", "process",
          lambda e: e.zk.signal(signal.SIGKILL), _zk_start,
          remedy="service.restart", health_check="zookeeper.ruok", zk=True, settle=_wait_zk),
    Drill("zk-txnlog-disk", "ZooKeeper txn logs + snapshots fill its data disk (> 60 %)", "zk1", "disk",
          _zk_fill, lambda e: None, remedy="磁盘清理", zk=True),
    Drill("zk-readonly", "ZooKeeper data disk read-only (restarted, cannot come up)", "zk1", "disk",
          _zk_readonly, _zk_readwrite, zk=True),
    Drill("mariadb-connections", "MariaDB max_connections (10) exhausted", "mdb", "capacity",
          _mariadb_exhaust, lambda e: e.release()),
    Drill("pg-connections", "PostgreSQL max_connections (20) exhausted by a pool", "pg", "capacity",
          _pg_exhaust, lambda e: e.release()),
    Drill("upstream-down", "upstream behind a healthy nginx stops (nginx answers 502)", "app", "process",
          lambda e: e.upstream.down(), lambda e: e.upstream.up()),
    Drill("upstream-slow", "upstream behind nginx answers in 3 s", "app", "capacity",
          lambda e: setattr(e.upstream, "mode", "slow"), lambda e: setattr(e.upstream, "mode", "ok")),
    Drill("nginx-dead", "nginx killed (master and worker)", "proxy", "process",
          lambda e: e.nginx.stop(), lambda e: e.nginx.start(),
          remedy="service.restart", health_check="nginx.http"),
    Drill("rabbitmq-backlog", "RabbitMQ queue: 50 messages, no consumer", "mq", "process",
          _rabbit_backlog, _rabbit_drain),
    Drill("host-disk", "host filesystem 97 % full of old logs", "box", "disk",
          _host_fill, _host_clear, remedy="磁盘清理"),
]
