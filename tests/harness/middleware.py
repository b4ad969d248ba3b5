"""Start OUR OWN middleware on free loopback ports for fault injection; never touch a shared server.

Destructive faults (a 2 MiB maxmemory, exhausted max_connections, a stopped nginx) are only safe
on an instance nobody else uses, so each helper starts one from the installed binary with a
temporary directory and stops it (and removes the directory) on exit::

    with start_redis("--maxmemory", "2mb") as rds:          # redis-server, no persistence
        rds.address                                         # "127.0.0.1:<port>"
    with start_nginx() as web:                              # / → "hello", /nginx_status → stub_status
        web.stop()                                          # the "nginx stopped" fault
    with start_mariadb(max_connections=10) as db: ...       # empty datadir, --skip-grant-tables
    with HttpServer(tls=self_signed_cert(tmp, days=3)) as site:
        site.url + "/slow/800"                              # also /status/503, /redirect/2, /

RabbitMQ and PostgreSQL are shared servers: :func:`rabbitmq_vhost` creates a vhost of our own
(and deletes it), the ``fresh_pg_url`` fixture a database of our own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

import httpx

from tests.harness.services import Service, ServiceError, ServiceMissing, _spawn, _workdir, free_port, wait_until

__all__ = ["HttpServer", "TlsFiles", "ensure_rabbitmq_management", "find_program", "rabbitmq_vhost",
           "self_signed_cert", "start_mariadb", "start_nginx", "start_redis"]

SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")  # daemons live here, often not on a user's PATH
READY_TIMEOUT = 30.0
RABBIT_API = os.environ.get("STEADYOPS_TEST_RABBITMQ_API", "http://127.0.0.1:15672")


def find_program(*names: str) -> str:
    """Absolute path of the first installed ``names`` (PATH, then the sbin directories)."""
    for name in names:
        found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))
        if found:
            return found
    raise ServiceMissing(f"none of {', '.join(names)} is installed (scripts/install-test-deps.sh)")


class TcpService(Service):
    """A started server spoken to over TCP; ``address`` is ``127.0.0.1:<port>``."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_for(self, probe: str, what: str, timeout: float = READY_TIMEOUT) -> None:
        """Until ``probe`` (``"redis"`` / ``"mysql"`` / ``"tcp"``) gets an answer; fail fast if the process dies."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            if self.proc.poll() is not None:
                tail = self.output_tail()
                self.stop()
                raise ServiceError(f"{what}: exited with status {self.proc.returncode}; output:\n{tail}")
            try:
                if self._answers(probe):
                    return
            except OSError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                tail = self.output_tail()
                self.stop()
                raise ServiceError(f"{what}: not ready after {timeout:g}s ({last}); output:\n{tail}")
            time.sleep(0.05)

    def _answers(self, probe: str) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            if probe == "redis":
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
            return bool(sock.recv(1)) if probe == "mysql" else True


def _started(name: str, args: Sequence[str], port: int, workdir: Path | None,
             made: tuple[Path, bool] | None = None) -> TcpService:
    """Spawn ``args`` (``{wd}`` replaced by the work directory) as a :class:`TcpService`."""
    wd, owns = made or _workdir(name, workdir)
    svc = _spawn(name, [str(a).replace("{wd}", str(wd)) for a in args], port, wd, owns)
    return TcpService(svc.name, svc.proc, port, wd, svc.log_path, owns_workdir=owns, args=svc.args)


def start_redis(*extra: str, port: int | None = None, workdir: Path | None = None) -> TcpService:
    """redis-server on 127.0.0.1 without persistence; ``extra`` are config flags (``"--maxmemory", "2mb"``)."""
    binary = find_program("redis-server")
    port = port or free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", "{wd}", "--daemonize", "no", "--protected-mode", "no", *extra]
    svc = _started("redis", args, port, workdir)
    svc.wait_for("redis", f"redis-server on port {port}")
    return svc


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {wd}/nginx.pid;
error_log {wd}/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
    client_body_temp_path {wd}/body; proxy_temp_path {wd}/proxy; fastcgi_temp_path {wd}/fastcgi;
    uwsgi_temp_path {wd}/uwsgi; scgi_temp_path {wd}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /nginx_status {{ stub_status; }}
        location = /missing {{ return 404 "no such page\\n"; }}
        {proxy}
        location / {{ default_type text/plain; return 200 "hello from steadyops nginx\\n"; }}
    }}
}}
"""


def start_nginx(*, port: int | None = None, worker_connections: int = 64, workdir: Path | None = None,
                upstream: str | None = None, proxy_timeout: float = 60.0) -> TcpService:
    """nginx (foreground, its own prefix, pid and logs): ``/`` answers 200, ``/nginx_status`` is stub_status.

    With ``upstream`` (``http://127.0.0.1:9000``), ``/app/`` is proxied there with ``proxy_timeout``
    seconds to connect and to read: a dead upstream makes nginx answer 502, a slower one 504.
    """
    binary = find_program("nginx")
    port = port or free_port()
    wd, owns = _workdir("nginx", workdir)
    conf = wd / "nginx.conf"
    proxy = ""
    if upstream:
        ms = f"{max(1, round(proxy_timeout * 1000))}ms"
        proxy = (f"location /app/ {{ proxy_pass {upstream.rstrip('/')}/; proxy_connect_timeout {ms}; "
                 f"proxy_read_timeout {ms}; }}")
    conf.write_text(NGINX_CONF.format(wd=wd, port=port, worker_connections=worker_connections, proxy=proxy),
                    encoding="utf-8")
    args = [binary, "-p", str(wd), "-c", str(conf), "-e", str(wd / "error.log")]
    svc = _spawn("nginx", args, port, wd, owns)
    web = TcpService(svc.name, svc.proc, port, wd, svc.log_path, owns_workdir=owns, args=args)
    try:
        web.wait_ready("/nginx_status", timeout=READY_TIMEOUT)
    except ServiceError as exc:
        raise ServiceError(f"{exc}\nerror.log:\n{_tail(wd / 'error.log')}") from None
    return web


def start_mariadb(*, port: int | None = None, max_connections: int = 10, workdir: Path | None = None,
                  system_tables: bool = False, extra: Sequence[str] = ()) -> TcpService:
    """A throw-away mariadbd: no grant tables (no passwords), tiny InnoDB; starts in ~1 s.

    The datadir is empty unless ``system_tables`` (``mariadb-install-db`` first, ~3 s more), which
    replication needs. ``--skip-grant-tables`` makes every client a superuser, so MariaDB allows
    it the one extra connection it keeps for SUPER beyond ``max_connections`` (minimum 10).
    """
    binary = find_program("mariadbd", "mysqld")
    port = port or free_port()
    wd, owns = _workdir("mariadb", workdir)
    if system_tables:
        install = [find_program("mariadb-install-db", "mysql_install_db"), "--no-defaults", f"--datadir={wd}",
                   "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
                   "--innodb-log-file-size=4M", "--innodb-buffer-pool-size=8M"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            install.append("--user=root")
        done = subprocess.run(install, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            shutil.rmtree(wd, ignore_errors=True)
            raise ServiceError(f"mariadb-install-db failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    args = [binary, "--no-defaults", "--datadir={wd}", "--socket={wd}/mysqld.sock", "--pid-file={wd}/mysqld.pid",
            f"--port={port}", "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-log-bin",
            f"--max-connections={max_connections}", "--innodb-buffer-pool-size=8M", "--innodb-log-file-size=4M",
            "--skip-name-resolve", "--log-error={wd}/error.log", *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--user=root")  # mariadbd refuses to run as root unless told to
    svc = _started("mariadb", args, port, workdir, (wd, owns))
    svc.wait_for("mysql", f"mariadbd on port {port}")
    return svc


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return ""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    not_after: dt.datetime


def self_signed_cert(directory: Path, *, days: float = 3.0, host: str = "127.0.0.1") -> TlsFiles:
    """A self-signed certificate for ``host`` (IP SAN + ``localhost``) expiring in ``days``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return TlsFiles(cert_path, key_path, not_after)


class _Handler(BaseHTTPRequestHandler):
    """``/`` page, ``/status/<code>``, ``/slow/<ms>``, ``/redirect/<n>`` (n hops to ``/``)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        code, body, headers = 200, "<html><title>steadyops</title><body>hello, status: all good</body></html>", {}
        if parts[0] == "status" and len(parts) > 1 and parts[1].isdigit():
            code, body = int(parts[1]), f"status {parts[1]}"
        elif parts[0] == "slow" and len(parts) > 1 and parts[1].isdigit():
            time.sleep(int(parts[1]) / 1000)
            body = "slow but fine"
        elif parts[0] == "redirect" and len(parts) > 1 and parts[1].isdigit():
            hops = int(parts[1])
            code, body = 302, "moved"
            headers["Location"] = f"/redirect/{hops - 1}" if hops > 1 else "/"
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        return


class HttpServer:
    """A threaded HTTP(S) server on 127.0.0.1 for http_probe tests; ``url`` is its base URL."""

    def __init__(self, tls: TlsFiles | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(tls.cert, tls.key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = int(self.httpd.server_address[1])
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


def ensure_rabbitmq_management(api: str = RABBIT_API, timeout: float = 30.0, amqp_port: int = 5672) -> str:
    """The management API's base URL, enabling ``rabbitmq_management`` on the local broker if it is off.

    Enabling is additive and idempotent (other users of the broker are unaffected) and it is left
    enabled, so parallel test runs never race to disable it under each other.
    """

    def answers() -> bool:
        return httpx.get(api + "/api/overview", auth=("guest", "guest"), timeout=2).status_code == 200

    try:
        if answers():
            return api
    except httpx.HTTPError:
        pass
    try:
        socket.create_connection(("127.0.0.1", amqp_port), timeout=2).close()
    except OSError as exc:  # no broker at all: say so now instead of waiting for a plugin that cannot start
        raise ServiceMissing(f"RabbitMQ is not running on 127.0.0.1:{amqp_port}: {exc}") from None
    try:
        subprocess.run([find_program("rabbitmq-plugins"), "enable", "--quiet", "rabbitmq_management"], check=True,
                       capture_output=True, timeout=timeout)
    except (subprocess.SubprocessError, OSError) as exc:
        raise ServiceMissing(f"cannot enable rabbitmq_management: {exc}") from None
    wait_until(answers, timeout=timeout, what=f"RabbitMQ management API at {api}")
    return api


@contextmanager
def rabbitmq_vhost(api: str = RABBIT_API, user: str = "guest", password: str = "guest") -> Iterator[str]:
    """A vhost of our own on the shared broker (``user`` gets all permissions on it), deleted afterwards."""
    name = f"steadyops-it-{uuid.uuid4().hex[:8]}"
    vhost = quote(name, safe="")
    with httpx.Client(base_url=api, auth=(user, password), timeout=10) as http:
        http.put(f"/api/vhosts/{vhost}", json={}).raise_for_status()
        try:
            http.put(f"/api/permissions/{vhost}/{quote(user, safe='')}",
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
            yield name
        finally:
            http.delete(f"/api/vhosts/{vhost}")
