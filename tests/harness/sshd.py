"""Start a REAL OpenSSH server on a free loopback port, with throw-away keys, for remote host checks.

The SSH path of the ``host`` integration is only worth something if it is proven against the real
``sshd`` — its key exchange, host-key presentation, ``authorized_keys`` handling and the shell it
runs commands in — so integration tests start Debian's ``/usr/sbin/sshd`` as a plain subprocess::

    with start_sshd() as sshd:
        sshd.port, sshd.client_key, sshd.host_public_key
        target = sshd.target("box-1", known_hosts=str(sshd.known_hosts_file()))

Everything lives in a temporary directory: a fresh ed25519 host key and client key (made with
``ssh-keygen``), an ``authorized_keys`` holding the client's public key, the config and the pid
file. Password and keyboard-interactive logins are off, PAM is off (so no system account policy
interferes) and ``StrictModes`` is off (the temp dir's permissions are not ``sshd``'s business).
The server runs in the foreground (``-D -e``) and logs to a file, never a pipe. Run as root it lets
root log in with the key; run as another user it can only log that user in, which is enough.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from steadyops.core.inventory import Target
from tests.harness.services import ServiceError, ServiceMissing, free_port

__all__ = ["SshServer", "find_sshd", "start_sshd"]

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")  # Debian's sshd refuses to start as root without it
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

CONFIG = """\
Port {port}
ListenAddress {host}
HostKey {workdir}/ssh_host_ed25519_key
AuthorizedKeysFile {workdir}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {user}
UsePAM no
StrictModes no
PidFile {workdir}/sshd.pid
PrintMotd no
MaxSessions 32
MaxStartups 64
LogLevel VERBOSE
"""


def find_sshd() -> str:
    """The sshd binary (an absolute path: sshd re-executes itself and refuses a relative one)."""
    for candidate in (*SSHD_CANDIDATES, shutil.which("sshd") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise ServiceMissing("OpenSSH server is not installed (no /usr/sbin/sshd); "
                         "run scripts/install-test-deps.sh (Debian package: openssh-server)")


def _keygen(path: Path) -> None:
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise ServiceMissing("ssh-keygen is not installed (Debian package: openssh-client)")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "steadyops-test", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


@dataclass
class SshServer:
    """A running sshd: where it listens, the key to log in with, and the key it presents."""

    host: str
    port: int
    user: str
    workdir: Path
    client_key: Path
    host_public_key: str  # "ssh-ed25519 AAAA… comment", as in a .pub file
    proc: subprocess.Popen[bytes]
    log_path: Path
    _owns_workdir: bool = field(default=True, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def known_hosts_line(self, public_key: str | None = None) -> str:
        """An OpenSSH known_hosts line for this server (or for ``public_key`` at its address)."""
        key_type, key_data = (public_key or self.host_public_key).split()[:2]
        return f"[{self.host}]:{self.port} {key_type} {key_data}\n"

    def known_hosts_file(self, path: Path | None = None, public_key: str | None = None) -> Path:
        """Write a known_hosts file trusting this server (or ``public_key`` for its address)."""
        path = path or self.workdir / "known_hosts"
        path.write_text(self.known_hosts_line(public_key), encoding="utf-8")
        return path

    def target(self, name: str = "ssh-test", **labels: str) -> Target:
        """A host target that logs in to this server with the generated client key."""
        merged = {"ssh_user": self.user, **labels}
        return Target(name=name, kind="host", address=self.address, labels=merged,
                      credentials=f"file:{self.client_key}")

    def output_tail(self, limit: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM (sshd closes its listener and every session), SIGKILL if it lingers; remove the temp dir."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _wait_banner(server: SshServer, timeout: float) -> None:
    """Ready when the port answers with an SSH identification string."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        code = server.proc.poll()
        if code is not None:
            raise ServiceError(f"sshd exited with status {code} before it was ready; output:\n{server.output_tail()}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1.0) as sock:
                banner = sock.recv(64)
                if banner.startswith(b"SSH-2.0"):
                    return
                last = repr(banner)
        except OSError as exc:
            last = type(exc).__name__
        if time.monotonic() > deadline:
            raise ServiceError(f"sshd not ready on {server.address} after {timeout:.0f}s ({last}); "
                               f"output:\n{server.output_tail()}")
        time.sleep(0.05)


def start_sshd(host: str = "127.0.0.1", port: int | None = None, workdir: Path | None = None) -> SshServer:
    """Generate keys, write the config, start ``sshd -D -e`` and wait for its banner."""
    binary = find_sshd()
    owns = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="steadyops-sshd-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "sshd.log"
    try:
        if os.geteuid() == 0:
            PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
        _keygen(workdir / "ssh_host_ed25519_key")
        _keygen(workdir / "client_key")
        shutil.copyfile(workdir / "client_key.pub", workdir / "authorized_keys")
        port = port or free_port()
        user = getpass.getuser()
        config = workdir / "sshd_config"
        config.write_text(CONFIG.format(port=port, host=host, workdir=workdir, user=user), encoding="utf-8")
        check = subprocess.run([binary, "-t", "-f", str(config)], capture_output=True, text=True, timeout=30,
                               check=False)
        if check.returncode != 0:
            raise ServiceError(f"sshd rejected its test config: {check.stderr.strip()}")
        with log_path.open("wb") as log:
            proc = subprocess.Popen([binary, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
    except BaseException:
        if owns:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    host_key = (workdir / "ssh_host_ed25519_key.pub").read_text(encoding="utf-8").strip()
    server = SshServer(host=host, port=port, user=user, workdir=workdir, client_key=workdir / "client_key",
                       host_public_key=host_key, proc=proc, log_path=log_path, _owns_workdir=owns)
    try:
        _wait_banner(server, READY_TIMEOUT)
    except BaseException:
        server.stop()
        raise
    return server

