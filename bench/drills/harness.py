"""The drill environment: private services on loopback, each with a control script, and one inventory.

Services that a drill stops, freezes or exhausts are private (started here on free ports):
ZooKeeper on its own tmpfs, Redis, MariaDB, PostgreSQL, nginx in front of an upstream served by this
process. RabbitMQ is the machine's shared broker, used only through a vhost of our own. The
restartable ones get a ``ctl {start,stop}`` script, which is what ``service.restart`` is allow-listed to run: the
platform restarts them exactly as it would a real service, through its approval policy.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg

from tests.harness.middleware import ensure_rabbitmq_management, find_program, rabbitmq_vhost, start_mariadb
from tests.harness.services import free_port, wait_until
from tests.harness.zookeeper import JVM_OPTS, ZkCluster, four_letter_word, small_filesystem


# -- the upstream behind nginx: a real HTTP server whose behaviour a drill changes --------------------
class Upstream:
    """``ok`` answers at once, ``slow`` after ``delay`` seconds; ``down`` closes the listening socket."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode = "ok"
        self.delay = 3.0
        self._httpd: ThreadingHTTPServer | None = None
        self.up()

    def up(self) -> None:
        if self._httpd is not None:
            return
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if owner.mode == "slow":
                    time.sleep(owner.delay)
                body = b"upstream ok\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.mode = "ok"

    def down(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def close(self) -> None:
        self.down()


NGINX_PROXY = """\
daemon on;
master_process on;
worker_processes 1;
pid {wd}/nginx.pid;
error_log {wd}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {wd}/body; proxy_temp_path {wd}/proxy; fastcgi_temp_path {wd}/fastcgi;
    uwsgi_temp_path {wd}/uwsgi; scgi_temp_path {wd}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /nginx_status {{ stub_status; }}
        location / {{ proxy_pass http://127.0.0.1:{upstream}; proxy_read_timeout 10s;
                     proxy_connect_timeout 2s; }}
    }}
}}
"""


@dataclass
class Daemon:
    """A service run through its own ``ctl`` script; ``pid()`` reads its pid file."""

    name: str
    port: int
    workdir: Path
    ctl: Path
    pidfile: Path

    def start(self) -> None:
        subprocess.run([str(self.ctl), "start"], check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        subprocess.run([str(self.ctl), "stop"], check=True, capture_output=True, timeout=60)

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def signal(self, sig: signal.Signals) -> None:
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    @property
    def commands(self) -> list[list[str]]:
        return [[str(self.ctl), "stop"], [str(self.ctl), "start"]]


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


_STOP = """\
  if [ -f {pid} ]; then
    p=$(cat {pid}); kill -9 $p 2>/dev/null
    i=0; while kill -0 $p 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    rm -f {pid}
  fi
"""


def zookeeper(root: Path, data: Path) -> Daemon:
    """A standalone ZooKeeper whose dataDir is ``data`` (a small tmpfs): txn logs roll every 20
    transactions into 256 KiB preallocated files, so real writes fill the disk in seconds."""
    cluster = ZkCluster(1, workdir=root / "zk", data_dirs={1: data},
                        extra_config={"snapCount": "20", "preAllocSize": "256", "autopurge.purgeInterval": "0"})
    node = cluster.node(1)
    argv = [cluster.java, *JVM_OPTS, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cluster.classpath,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(node.config_path)]
    pid = root / "zk.pid"
    ctl = _script(root / "zk-ctl", f"""case "$1" in
stop)
{_STOP.format(pid=pid)}  ;;
start)
  cd {shlex.quote(str(node.workdir))}
  setsid {shlex.join(argv)} >> {shlex.quote(str(node.log_path))} 2>&1 < /dev/null &
  echo $! > {pid}
  ;;
esac
""")
    return Daemon("zookeeper", node.client_port, node.workdir, ctl, pid)


def redis(root: Path) -> Daemon:
    port = free_port()
    wd = root / "redis"
    wd.mkdir()
    pid = root / "redis.pid"
    argv = [find_program("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(wd), "--daemonize", "yes", "--pidfile", str(pid),
            "--protected-mode", "no", "--logfile", str(wd / "redis.log")]
    ctl = _script(root / "redis-ctl", f"""case "$1" in
stop)
{_STOP.format(pid=pid)}  ;;
start)
  {shlex.join(argv)}
  i=0; while [ ! -s {pid} ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  ;;
esac
""")
    return Daemon("redis", port, wd, ctl, pid)


def nginx_proxy(root: Path, upstream: int) -> Daemon:
    port = free_port()
    wd = root / "nginx"
    wd.mkdir()
    conf = wd / "nginx.conf"
    conf.write_text(NGINX_PROXY.format(wd=wd, port=port, upstream=upstream), encoding="utf-8")
    pid = wd / "nginx.pid"
    binary = find_program("nginx")
    ctl = _script(root / "nginx-ctl", f"""case "$1" in
stop)
  if [ -f {pid} ]; then
    p=$(cat {pid}); all="$p $(pgrep -P $p)"
    kill -9 $all 2>/dev/null
    for q in $all; do i=0; while kill -0 $q 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; done
    rm -f {pid}
  fi
  ;;
start)
  {shlex.join([binary, "-p", str(wd), "-c", str(conf), "-e", str(wd / "error.log")])}
  ;;
esac
""")
    return Daemon("nginx", port, wd, ctl, pid)


def postgres(root: Path) -> Daemon:
    """A private PostgreSQL (max_connections 20): exhausting it hurts nobody else's tests."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    wd = root / "pg"
    wd.mkdir()
    shutil.chown(wd, "postgres", "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(wd / "data"), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True, timeout=120)
    opts = f"-p {port} -k {wd} -c listen_addresses=127.0.0.1 -c max_connections=20 -c fsync=off"
    ctl = _script(root / "pg-ctl", f"""case "$1" in
stop) {shlex.join([*as_pg, str(bindir / "pg_ctl"), "-D", str(wd / "data"), "-m", "immediate", "stop"])} ;;
start) {shlex.join([*as_pg, str(bindir / "pg_ctl"), "-D", str(wd / "data"), "-o", opts, "-l", str(wd / "pg.log"),
                    "-w", "start"])} ;;
esac
""")
    return Daemon("postgres", port, wd, ctl, wd / "data" / "postmaster.pid")


@dataclass
class Env:
    root: Path
    zk: Daemon
    zk_data: Path
    redis: Daemon
    nginx: Daemon
    upstream: Upstream
    host_disk: Path
    mariadb: Any
    pg: Daemon
    vhost: str
    rabbit_api: str
    held: list[Any] = field(default_factory=list)
    #: a started llama.cpp server when the inference drills run (``--inference``)
    llm: Any = None

    def inventory(self) -> dict[str, Any]:
        """The topology: web → proxy (nginx) → app (its upstream); the rest stand alone."""
        fast = {"timeout": "2", "tries": "1"}
        return {"targets": [
            {"name": "zk1", "kind": "zookeeper", "address": f"127.0.0.1:{self.zk.port}",
             "labels": {"timeout": "2", "data_dir": str(self.zk_data), "disk_used_pct_warn": "50",
                        "disk_used_pct_crit": "60"}},
            {"name": "cache", "kind": "redis", "address": f"127.0.0.1:{self.redis.port}", "labels": {"timeout": "2"}},
            {"name": "mdb", "kind": "mysql", "address": self.mariadb.address,
             "labels": {"user": "root", "timeout": "2"}},
            {"name": "pg", "kind": "postgres", "address": f"127.0.0.1:{self.pg.port}",
             "labels": {"user": "postgres", "database": "postgres", "timeout": "2"}},
            {"name": "mq", "kind": "rabbitmq", "address": "127.0.0.1:5672",
             "labels": {"vhost": self.vhost, "api_url": self.rabbit_api, "timeout": "2"}},
            {"name": "app", "kind": "http_probe", "address": f"http://127.0.0.1:{self.upstream.port}/",
             "labels": {**fast, "latency_warn_ms": "800", "latency_crit_ms": "1500"}},
            {"name": "proxy", "kind": "nginx", "address": f"127.0.0.1:{self.nginx.port}", "depends_on": ["app"],
             "labels": {"timeout": "5", "status_url": f"http://127.0.0.1:{self.nginx.port}/nginx_status"}},
            {"name": "web", "kind": "http_probe", "address": f"http://127.0.0.1:{self.nginx.port}/",
             "depends_on": ["proxy"], "labels": {**fast, "timeout": "5", "latency_warn_ms": "800",
                                                 "latency_crit_ms": "1500"}},
            {"name": "box", "kind": "host", "address": "127.0.0.1",
             # the machine is shared by parallel builds: its load is not a drill's fault
             "labels": {"disk_mounts": str(self.host_disk), "disk_used_pct_warn": "85", "disk_used_pct_crit": "95",
                        "load_warn": "50", "load_crit": "100", "systemd": "false",
                        "log_paths": str(self.host_disk / "logs"), "log_older_than_days": "1"}},
        ]}

    def restartable(self) -> dict[str, Daemon]:
        return {"zk1": self.zk, "cache": self.redis, "proxy": self.nginx}

    def release(self) -> None:
        """Close every connection a drill holds open (exhaustion faults)."""
        for conn in self.held:
            with contextlib.suppress(Exception):
                conn.close()
        self.held.clear()


def _zk_ready(port: int) -> bool:
    try:
        return four_letter_word(port, "ruok", timeout=1.0) == "imok"
    except OSError:
        return False


@contextlib.contextmanager
def environment() -> Iterator[Env]:
    root = Path(tempfile.mkdtemp(prefix="steadyops-drills-"))
    root.chmod(0o755)  # the private PostgreSQL runs as its own user and must reach its directory
    stack = contextlib.ExitStack()
    try:
        zk_data = stack.enter_context(small_filesystem(root / "zkdata", "24m"))
        host_disk = stack.enter_context(small_filesystem(root / "hostdisk", "16m"))
        zk = zookeeper(root, zk_data)
        zk.start()
        stack.callback(zk.stop)
        wait_until(lambda: _zk_ready(zk.port) or None, timeout=60, what="ZooKeeper")
        rd = redis(root)
        rd.start()
        stack.callback(rd.stop)
        upstream = Upstream()
        stack.callback(upstream.close)
        ngx = nginx_proxy(root, upstream.port)
        ngx.start()
        stack.callback(ngx.stop)
        mariadb = stack.enter_context(start_mariadb(max_connections=10, workdir=root / "mariadb"))
        pg = postgres(root)
        pg.start()
        stack.callback(pg.stop)
        with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres",
                             autocommit=True) as admin:
            admin.execute("CREATE ROLE app_pool LOGIN")
        api = ensure_rabbitmq_management()
        vhost = stack.enter_context(rabbitmq_vhost(api))
        env = Env(root=root, zk=zk, zk_data=zk_data, redis=rd, nginx=ngx, upstream=upstream, host_disk=host_disk,
                  mariadb=mariadb, pg=pg, vhost=vhost, rabbit_api=api)
        stack.callback(env.release)
        yield env
    finally:
        stack.close()
        shutil.rmtree(root, ignore_errors=True)
