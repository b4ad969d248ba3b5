"""Start real services on free loopback ports, as subprocesses with temporary directories.

Integration tests and benchmarks talk to the real thing — the Debian packages of Prometheus,
Alertmanager and node_exporter, and steadyops itself as a separate process (so it can be killed
with SIGKILL and restarted on the same data directory). Each ``start_*`` function returns a
:class:`Service` once the process answers its readiness endpoint, or raises
:class:`ServiceError` with the tail of the process's output::

    with start_node_exporter() as node, start_prometheus(config, rules) as prom:
        httpx.get(prom.url + "/api/v1/targets")

    app = start_steadyops({"route": {"group_wait": "3s"}}, data_dir=tmp_path / "data")
    app.kill()                                            # SIGKILL, no cleanup
    app = start_steadyops(config, data_dir=tmp_path / "data", port=app.port)   # same store

Services write their output to a log file in their work directory (never a pipe, which would
block a chatty process once the buffer fills). Work directories that a function created itself
are removed by :meth:`Service.stop`; a steadyops ``data_dir`` passed in is never removed.

:class:`Services` tracks everything started through it and stops it all in one call, which is
what a pytest fixture wants::

    @pytest.fixture
    def services() -> Iterator[Services]:
        with Services() as s:
            yield s
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar

import httpx
import yaml

__all__ = [
    "Service",
    "ServiceError",
    "ServiceMissing",
    "Services",
    "find_binary",
    "free_port",
    "start_alertmanager",
    "start_node_exporter",
    "start_prometheus",
    "start_steadyops",
    "wait_until",
]

T = TypeVar("T")

#: Names of each service's binary: the Debian package's first, then the upstream tarball's.
BINARIES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "node_exporter": ("prometheus-node-exporter", "node_exporter"),
    "promtool": ("promtool",),  # Debian's prometheus package; checks and unit-tests rule files
}
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_TAIL_BYTES = 4000

_ports_lock = threading.Lock()
_ports_given: set[int] = set()


class ServiceError(RuntimeError):
    """A service did not start (or stop) as expected; the message ends with its output tail."""


class ServiceMissing(ServiceError):
    """The service's binary is not installed (``scripts/install-test-deps.sh`` installs it)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago and not handed out before by this process."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        with _ports_lock:
            if port not in _ports_given:
                _ports_given.add(port)
                return port
    raise ServiceError("could not find a free loopback port")


def find_binary(service: str) -> str:
    """Absolute path of ``service``'s binary, or :class:`ServiceMissing`."""
    for name in BINARIES[service]:
        path = shutil.which(name)
        if path:
            return path
    raise ServiceMissing(
        f"{service} is not installed (looked for {', '.join(BINARIES[service])}); "
        "run scripts/install-test-deps.sh"
    )


class Service:
    """One started process: ``url``, ``port``, ``proc``, ``workdir``; ``stop()`` or ``kill()`` it."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], port: int, workdir: Path, log_path: Path,
                 *, owns_workdir: bool, args: Sequence[str]) -> None:
        self.name = name
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.log_path = log_path
        self.args = list(args)
        self._owns_workdir = owns_workdir
        #: for a steadyops server: the first-start admin token it wrote into its data dir
        self.token: str | None = None

    def __repr__(self) -> str:
        return f"<Service {self.name} pid={self.proc.pid} {self.url}>"

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def output_tail(self, limit: int = _TAIL_BYTES) -> str:
        """The last ``limit`` bytes of the process's stdout and stderr."""
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - limit))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout: float = READY_TIMEOUT,
                   check: Callable[[httpx.Response], bool] | None = None) -> None:
        """Poll ``GET url+path`` until it answers 2xx (and ``check``), the process dies, or time is up."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = self.proc.poll()
                if code is not None:
                    tail = self.output_tail()
                    self._cleanup()
                    raise ServiceError(f"{self.name} exited with status {code} before it was ready; "
                                       f"output:\n{tail}")
                try:
                    resp = client.get(self.url + path)
                    if resp.is_success and (check is None or check(resp)):
                        return
                    last = f"HTTP {resp.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                if time.monotonic() > deadline:
                    tail = self.output_tail()
                    self.kill()
                    self._cleanup()
                    raise ServiceError(f"{self.name} not ready at {self.url}{path} after {timeout:.0f}s "
                                       f"({last}); output:\n{tail}")
                time.sleep(0.1)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait, SIGKILL if it lingers; remove the work directory if we created it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._cleanup()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush — a crash. The work directory is kept."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)

    def _cleanup(self) -> None:
        if self._owns_workdir and self.proc.poll() is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def wait_until(probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2,
               logs: Sequence[Service] = ()) -> T:
    """Poll ``probe`` until it returns something truthy and return it.

    Exceptions from ``probe`` count as "not yet" (a service settling); on timeout a
    :class:`TimeoutError` names ``what``, the last exception, and the output tail of ``logs``.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:
            last_error = exc
        if time.monotonic() > deadline:
            err = f" (last error: {last_error!r})" if last_error is not None else ""
            tails = "".join(f"\n--- {svc.name} output ---\n{svc.output_tail()}" for svc in logs)
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}{err}{tails}")
        time.sleep(interval)


def _workdir(name: str, workdir: Path | None) -> tuple[Path, bool]:
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return workdir, False
    return Path(tempfile.mkdtemp(prefix=f"steadyops-{name}-")), True


def _spawn(name: str, args: Sequence[str], port: int, workdir: Path, owns: bool, *,
           env: Mapping[str, str] | None = None) -> Service:
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # a Ctrl-C in the terminal is the test runner's, not the service's
        )
    return Service(name, proc, port, workdir, log_path, owns_workdir=owns, args=args)


def _dump(data: Mapping[str, Any] | str) -> str:
    return data if isinstance(data, str) else yaml.safe_dump(dict(data), sort_keys=False)


def start_node_exporter(*, port: int | None = None, workdir: Path | None = None,
                        timeout: float = READY_TIMEOUT) -> Service:
    """A real node_exporter with a few cheap collectors (a 1 s scrape costs almost nothing)."""
    binary = find_binary("node_exporter")
    port = port or free_port()
    wd, owns = _workdir("node-exporter", workdir)
    args = [
        binary,
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.cpu",
        "--collector.loadavg",
        "--collector.meminfo",
        "--collector.time",
    ]
    svc = _spawn("node_exporter", args, port, wd, owns)
    svc.wait_ready("/metrics", timeout)
    return svc


class PrometheusService(Service):
    """Prometheus plus its rules file; :meth:`set_rules` rewrites it and reloads (lifecycle API)."""

    rules_path: Path

    def set_rules(self, rules: Mapping[str, Any] | str, timeout: float = 10.0) -> None:
        self.rules_path.write_text(_dump(rules), encoding="utf-8")
        self.reload(timeout)

    def reload(self, timeout: float = 10.0) -> None:
        resp = httpx.post(self.url + "/-/reload", timeout=timeout)
        if not resp.is_success:
            raise ServiceError(f"prometheus reload failed: HTTP {resp.status_code} {resp.text[:500]}\n"
                               f"{self.output_tail()}")


def start_prometheus(config: Mapping[str, Any] | str, rules: Mapping[str, Any] | str | None = None, *,
                     port: int | None = None, workdir: Path | None = None,
                     timeout: float = READY_TIMEOUT) -> PrometheusService:
    """A real Prometheus with a temporary TSDB and ``--web.enable-lifecycle`` (for ``/-/reload``).

    ``config`` is prometheus.yml as a mapping (or YAML text). When ``rules`` is given it is written
    to ``rules.yml`` in the work directory and added to ``rule_files``.
    """
    binary = find_binary("prometheus")
    port = port or free_port()
    wd, owns = _workdir("prometheus", workdir)
    cfg: dict[str, Any] = dict(yaml.safe_load(config) if isinstance(config, str) else config)
    rules_path = wd / "rules.yml"
    rules_path.write_text(_dump(rules) if rules is not None else "groups: []\n", encoding="utf-8")
    if rules is not None:
        cfg["rule_files"] = [*cfg.get("rule_files", []), str(rules_path)]
    config_path = wd / "prometheus.yml"
    config_path.write_text(_dump(cfg), encoding="utf-8")
    (wd / "tsdb").mkdir(exist_ok=True)
    args = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={wd / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time=1h",
        "--log.level=warn",
    ]
    svc = _spawn("prometheus", args, port, wd, owns)
    prom = PrometheusService(svc.name, svc.proc, port, wd, svc.log_path, owns_workdir=owns, args=args)
    prom.rules_path = rules_path
    prom.wait_ready("/-/ready", timeout)
    return prom


def start_alertmanager(config: Mapping[str, Any] | str, *, port: int | None = None,
                       workdir: Path | None = None, timeout: float = READY_TIMEOUT) -> Service:
    """A real Alertmanager, clustering off, with a temporary ``--storage.path``."""
    binary = find_binary("alertmanager")
    port = port or free_port()
    wd, owns = _workdir("alertmanager", workdir)
    config_path = wd / "alertmanager.yml"
    config_path.write_text(_dump(config), encoding="utf-8")
    (wd / "data").mkdir(exist_ok=True)
    args = [
        binary,
        f"--config.file={config_path}",
        f"--storage.path={wd / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--data.retention=1h",
        "--log.level=warn",
    ]
    svc = _spawn("alertmanager", args, port, wd, owns)
    svc.wait_ready("/-/ready", timeout)
    return svc


def start_steadyops(config: Mapping[str, Any] | str | None = None, *, data_dir: Path,
                    env: Mapping[str, str] | None = None, port: int | None = None,
                    workdir: Path | None = None, log_level: str = "warning",
                    command: Sequence[str] | None = None, timeout: float = READY_TIMEOUT) -> Service:
    """``python -m steadyops serve`` as its own process, ready once ``/readyz`` answers.

    ``config`` is steadyops.yaml as a mapping (or YAML text; without an ``inspection`` section the
    scheduler is off, so the server holds only what the test sends); ``env`` adds ``STEADYOPS_*``
    variables (they win over the file, as in production). ``data_dir`` is kept across stop/kill so
    a second call with the same ``data_dir`` (and ``port``) restarts on the same store.
    ``command`` replaces ``python -m steadyops serve`` (same environment), e.g. for a benchmark
    variant; it must serve ``/readyz`` on ``STEADYOPS_PORT``.
    """
    port = port or free_port()
    wd, owns = _workdir("steadyops", workdir)
    if config is None or (isinstance(config, Mapping) and "inspection" not in config):
        # the scheduler stays off unless the test asks for it: otherwise it would inspect the machine
        # running the tests, and that host's own alerts would join the incidents under test
        config = {**(config or {}), "inspection": {"enabled": False}}
    config_path = wd / "steadyops.yaml"
    config_path.write_text(_dump(config or {}), encoding="utf-8")
    data_dir.mkdir(parents=True, exist_ok=True)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("STEADYOPS_")}
    child_env.update({
        "STEADYOPS_CONFIG": str(config_path),
        "STEADYOPS_DATA_DIR": str(data_dir),
        "STEADYOPS_HOST": "127.0.0.1",
        "STEADYOPS_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    })
    child_env.update(env or {})
    args = list(command) if command else [sys.executable, "-m", "steadyops", "serve", "--log-level", log_level]
    svc = _spawn("steadyops", args, port, wd, owns, env=child_env)
    svc.wait_ready("/readyz", timeout)
    from steadyops.auth.bootstrap import read_local_token

    svc.token = read_local_token(data_dir)
    return svc




class Services:
    """Everything started through it is stopped by :meth:`close` (in reverse order)."""

    def __init__(self) -> None:
        self.started: list[Service] = []

    def _track(self, svc: Service) -> Service:
        self.started.append(svc)
        return svc

    def node_exporter(self, **kw: Any) -> Service:
        return self._track(start_node_exporter(**kw))

    def prometheus(self, config: Mapping[str, Any] | str, rules: Mapping[str, Any] | str | None = None,
                   **kw: Any) -> PrometheusService:
        prom = start_prometheus(config, rules, **kw)
        self._track(prom)
        return prom

    def alertmanager(self, config: Mapping[str, Any] | str, **kw: Any) -> Service:
        return self._track(start_alertmanager(config, **kw))

    def steadyops(self, config: Mapping[str, Any] | str | None = None, **kw: Any) -> Service:
        return self._track(start_steadyops(config, **kw))

    def close(self) -> None:
        errors: list[str] = []
        for svc in reversed(self.started):
            try:
                svc.stop()
            except Exception as exc:  # stop the others regardless
                errors.append(f"{svc.name}: {exc}")
        self.started.clear()
        if errors:
            raise ServiceError("; ".join(errors))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def unavailable(exc: Exception) -> NoReturn:
    """Skip a test whose service cannot run here, unless CI demands it (STEADYOPS_REQUIRE_SERVICES=1),
    so CI can never pass by skipping the tests that start real services."""
    import pytest

    if os.environ.get("STEADYOPS_REQUIRE_SERVICES") == "1":
        pytest.fail(str(exc))
    pytest.skip(str(exc))
