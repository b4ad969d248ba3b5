"""The three built-in actions on a target reached over SSH — a REAL OpenSSH server on loopback, as root.

The sshd runs on this machine, so what the actions do "remotely" can be checked on the local
filesystem; that the work really went over SSH is shown by where the plan says it runs, by the
refusals that name the remote login, and by a host key that no longer matches stopping everything.

* ``host.clean_logs``: plan (no side effects) → apply archives on the target, verifies, frees the
  bytes; the archive is readable by the local :mod:`~steadyops.execution.archive` too; rollback
  restores bytes and mtimes;
* a symlink escaping the allow-list is refused by the remote realpath;
* ``zookeeper.purge`` (synthetic ``version-2``, no JVM) keeps the newest snapshots and the logs after them;
* ``service.restart`` runs the allow-listed stop/start over SSH (its start daemonises and holds stdout),
  health-checked, and refuses a command that is not allow-listed;
* a host-key mismatch refuses to plan, and to apply a plan approved before the key changed — audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import asyncssh
import pytest
import yaml

from steadyops.contracts.checks import Check
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Plan
from steadyops.execution import archive
from steadyops.execution.logins import Logins, SshSettings
from steadyops.execution.shell import LocalShell, SshShell, shell_for
from steadyops.integrations import host as host_plugin
from steadyops.integrations import zookeeper as zk_plugin
from steadyops.integrations.host.actions import CleanLogs
from steadyops.integrations.zookeeper.actions import SNAP_TRAILER, ZkPurge
from steadyops.integrations.zookeeper.storage import DataFilesCheck, DiskCheck, ShellDirProbe, local_usage
from steadyops.plugins import Registry
from tests.harness.services import free_port
from tests.harness.sshd import SshServer

pytestmark = pytest.mark.integration

CONTROL = r'''
import os, signal, subprocess, sys, time
action, port, pidfile = sys.argv[1], sys.argv[2], sys.argv[3]
if action == "start":
    proc = subprocess.Popen([sys.executable, "-m", "http.server", port, "--bind", "127.0.0.1"],
                            start_new_session=True)  # inherits our stdout: the SSH channel stays open
    open(pidfile, "w").write(str(proc.pid))
    print("started", proc.pid, flush=True)
elif action == "stop":
    pid = int(open(pidfile).read())
    os.kill(pid, signal.SIGTERM)
    while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        time.sleep(0.02)
    print("stopped", pid, flush=True)
'''


class HttpUp(Check):
    """OK when ``http://<address>/`` answers."""

    name: ClassVar[str] = "test.http"
    target_kind: ClassVar[str] = "web"
    timeout: ClassVar[float] = 2.0

    async def run(self, target: Target) -> CheckResult:
        try:
            with urllib.request.urlopen(f"http://{target.address}/", timeout=1) as resp:
                return CheckResult(status=CheckStatus.OK, summary=f"HTTP {resp.status}")
        except OSError as exc:
            return CheckResult(status=CheckStatus.CRITICAL, summary=f"down: {exc}")


def ssh_labels(sshd: SshServer, **extra: str) -> dict[str, str]:
    return {"ssh_user": sshd.user, "known_hosts": str(sshd.known_hosts_file()), "env": "dev", **extra}


def write_logs(root: Path, n: int = 5, size: int = 4096) -> None:
    root.mkdir(parents=True, exist_ok=True)
    old = time.time() - 10 * 86400
    for i in range(n):
        (root / f"app-{i}.log").write_bytes(os.urandom(size))
        os.utime(root / f"app-{i}.log", ns=(int(old * 1e9) + i * 1001, int(old * 1e9) + i * 1001))
    (root / "current.log").write_text("still being written\n")


def write_history(vdir: Path, snaps: list[int], logs: list[int]) -> None:
    vdir.mkdir(parents=True, exist_ok=True)
    names = sorted([("snapshot", z) for z in snaps] + [("log", z) for z in logs], key=lambda pz: pz[1])
    for i, (prefix, zxid) in enumerate(names):
        p = vdir / f"{prefix}.{zxid:x}"
        p.write_bytes(os.urandom(2048) + (SNAP_TRAILER if prefix == "snapshot" else b""))
        os.utime(p, ns=(1_700_000_000_123_456_789 + i * 10**9,) * 2)  # sub-second mtimes must survive a restore


def digest(paths: list[str]) -> dict[str, tuple[str, int]]:
    return {p: (archive.sha256_file(p), os.lstat(p).st_mtime_ns) for p in paths}


def tree(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, _dirs, files in sorted(os.walk(root)):
        for name in sorted(files):
            p = Path(dirpath) / name
            h.update(f"{p}:{p.lstat().st_size}:{p.lstat().st_mtime_ns}".encode())
    return h.hexdigest()


@pytest.fixture
async def world(make_app: Any, sshd: SshServer, tmp_path: Path) -> AsyncIterator[Any]:
    """An App whose targets all live behind the test sshd: a host, a ZooKeeper, a web service."""
    logs, zkdir, svc = tmp_path / "logs", tmp_path / "zk", tmp_path / "svc"
    write_logs(logs)
    write_history(zkdir / "version-2", [0x10, 0x20, 0x30, 0x40, 0x50], [0x1, 0x15, 0x25, 0x35, 0x45])
    svc.mkdir()
    (svc / "control.py").write_text(CONTROL)
    http_port = free_port()
    key = f"file:{sshd.client_key}"
    remote = {"transport": "ssh", "ssh_port": str(sshd.port)}
    targets = [
        sshd.target("box", **ssh_labels(sshd, disk_mounts="/")),
        Target(name="zk-remote", kind="zookeeper", address="127.0.0.1:1", credentials=key,  # nobody on :1
               labels=ssh_labels(sshd, data_dir=str(zkdir), **remote)),
        Target(name="web-remote", kind="web", address=f"127.0.0.1:{http_port}", credentials=key,
               labels=ssh_labels(sshd, **remote)),
    ]
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"targets": [t.model_dump() for t in targets]}), encoding="utf-8")
    reg = Registry()
    host_plugin.register(reg)
    zk_plugin.register(reg)
    reg.add_check(HttpUp)
    control = [sys.executable, str(svc / "control.py")]
    pidfile = str(svc / "http.pid")
    commands = [[*control, verb, str(http_port), pidfile] for verb in ("stop", "start")]
    app = make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["*"], "target_labels": {"env": "dev"}, "mode": "auto"}],
        "allow": [{"actions": ["host.clean_logs"], "paths": [str(logs)]},
                  {"actions": ["zookeeper.purge"], "paths": [str(zkdir)]},
                  {"actions": ["service.restart"], "commands": commands}],
    })
    app.logs, app.zkdir, app.svc, app.http_port = logs, zkdir, svc, http_port
    app.control, app.pidfile = control, pidfile
    yield app
    await app.shutdown()  # the verify checks' pooled (read-only) logins, this App's own


def where(sshd: SshServer) -> str:
    return f"{sshd.user}@127.0.0.1:{sshd.port}"


async def test_clean_logs_over_ssh_archives_verifies_and_frees(world: Any, sshd: SshServer, capsys: Any) -> None:
    app = world
    before = tree(app.logs)
    run = await app.executor.propose("host.clean_logs", "box", {"paths": [str(app.logs)], "older_than_days": 7}, "dave")
    assert tree(app.logs) == before  # plan() ran find/realpath/date over SSH, and changed nothing
    plan = Plan.model_validate(run.plan)
    assert plan.params["exec_target"]["transport"] == "ssh" and f"runs on {where(sshd)}" in plan.notes
    archive_step = next(s for s in plan.steps if s.kind == "archive")
    assert f"on {where(sshd)} (the archive stays on the target host)" in archive_step.description
    assert len([s for s in plan.steps if s.kind == "delete"]) == 5 and run.status == "approved"
    doomed = sorted(str(app.logs / f"app-{i}.log") for i in range(5))
    originals = digest(doomed)
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert outcome.bytes_freed == 5 * 4096 and outcome.details["where"] == where(sshd)
    assert sorted(p.name for p in app.logs.iterdir()) == ["current.log"]
    dest = Path(outcome.details["archive"])
    assert dest.parent == app.executor.backup_dir / "box"  # the backup dir, on the target host
    assert archive.verify(dest) == outcome.details["checksums"]  # GNU tar's archive, read by the local code
    assert [f["check"] for f in outcome.details["verification"]] == ["host.disk"]  # re-run over SSH
    assert [e.kind for e in app.audit.entries()] == ["planned", "apply_started", "succeeded"]
    ctx, _allow = app.executor._context("host.clean_logs", app.inventory.targets["box"])
    back = await CleanLogs().rollback(plan, outcome, ctx)
    assert back.ok and digest(doomed) == originals  # same bytes, same mtime to the nanosecond
    assert "Accepted publickey for" in sshd.output_tail(100_000)
    with capsys.disabled():  # the transcript for the report
        print(f"\n$ act plan host.clean_logs box  → run {run.id} ({run.status}), plan {plan.plan_hash[:12]}")
        print("\n".join(f"  - {s.description}" for s in plan.steps[:3]) + f"\n  … {len(plan.steps) - 3} more")
        print(f"  notes: {plan.notes}\n$ act apply {run.id}\n  {outcome.summary}; archive {dest}")
        print(f"  verification: {[(f['check'], f['status']) for f in outcome.details['verification']]}")


async def test_remote_symlink_escaping_the_allow_list_is_refused(world: Any, sshd: SshServer, tmp_path: Path) -> None:
    app = world
    secret = tmp_path / "etc"
    secret.mkdir()
    (secret / "passwd.log").write_text("root:x:0:0")
    os.utime(secret / "passwd.log", (0, 0))
    (app.logs / "escape").symlink_to(secret)
    with pytest.raises(Refused, match=rf"resolves to '{secret}' on {where(sshd)} \(via a symlink\), outside"):
        await app.executor.propose("host.clean_logs", "box", {"paths": [str(app.logs / "escape")]}, "dave")
    assert app.audit.entries()[-1].kind == "refused"
    (app.logs / "link.log").symlink_to(secret / "passwd.log")  # a symlinked file inside the root: never followed
    run = await app.executor.propose("host.clean_logs", "box", {"paths": [str(app.logs)]}, "dave")
    assert "passwd" not in str(run.plan)
    assert (await app.executor.apply(run.id, "dave")).ok
    assert (secret / "passwd.log").read_text() == "root:x:0:0" and (app.logs / "link.log").is_symlink()


async def test_zookeeper_purge_over_ssh_keeps_the_newest_snapshots(world: Any, sshd: SshServer) -> None:
    app = world
    vdir = app.zkdir / "version-2"
    run = await app.executor.propose("zookeeper.purge", "zk-remote", {"keep": 3}, "dave")
    plan = Plan.model_validate(run.plan)
    assert plan.params["exec_target"] == {
        "transport": "ssh", "name": "zk-remote", "address": f"127.0.0.1:{sshd.port}",  # ssh_port, not ZooKeeper's
        "credentials": f"file:{sshd.client_key}", "labels": {k: v for k, v in ssh_labels(sshd).items() if k != "env"}
        | {"ssh_port": str(sshd.port)}}
    doomed = sorted(s.paths[0] for s in plan.steps if s.kind == "delete")
    assert [Path(p).name for p in doomed] == ["log.1", "log.15", "snapshot.10", "snapshot.20"]
    originals = digest(doomed)
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert sorted(os.listdir(vdir)) == ["log.25", "log.35", "log.45", "snapshot.30", "snapshot.40", "snapshot.50"]
    assert outcome.details["hosts"] == {"zk-remote": {"bytes_freed": outcome.bytes_freed, "files": 4}}
    assert outcome.bytes_freed == 4 * 2048 + 2 * len(SNAP_TRAILER)
    assert set(archive.verify(Path(outcome.details["archive"]))) == set(doomed)
    ctx, _allow = app.executor._context("zookeeper.purge", app.inventory.targets["zk-remote"])
    back = await ZkPurge().rollback(plan, outcome, ctx)
    assert back.ok and sorted(back.details["restored"]) == doomed and digest(doomed) == originals


async def test_zookeeper_storage_checks_measure_a_remote_data_dir_over_ssh(world: Any, sshd: SshServer) -> None:
    """The disk and data-files checks of a remote ZooKeeper log in like the purge does and give the numbers
    a local stat gives (the label names the dataDir; its version-2 child is found on the remote side)."""
    target = world.inventory.targets["zk-remote"]
    target = target.model_copy(update={"labels": {**target.labels, "data_dir": str(world.zkdir)}})
    local = local_usage(str(world.zkdir / "version-2"))
    usage = await ShellDirProbe(world.ssh).usage(target, str(world.zkdir))
    assert usage.path == str(world.zkdir / "version-2")
    counted = (usage.snapshots, usage.snapshot_bytes, usage.txn_logs, usage.txn_log_bytes)
    assert counted == (local.snapshots, local.snapshot_bytes, local.txn_logs, local.txn_log_bytes)
    assert counted == (5, 5 * (2048 + len(SNAP_TRAILER)), 5, 5 * 2048)
    assert usage.fs_total == local.fs_total and not usage.read_only
    files = await world.registry.checks.get(DataFilesCheck.name)().run(target)  # as the App runs it
    assert files.status is CheckStatus.OK and files.metrics["snapshots"] == 5 and files.metrics["txn_logs"] == 5
    disk = await world.registry.checks.get(DiskCheck.name)().run(target)
    assert disk.status is not CheckStatus.UNKNOWN and "data_dir_used_pct" in disk.metrics, disk
    with pytest.raises(OSError, match="No such file"):
        await ShellDirProbe(world.ssh).usage(target, str(world.zkdir / "nope"))


async def test_service_restart_over_ssh_runs_allow_listed_commands_only(world: Any, sshd: SshServer) -> None:
    app = world
    start = [*app.control, "start", str(app.http_port), app.pidfile]
    stop = [*app.control, "stop", str(app.http_port), app.pidfile]
    first = await LocalShell().run(start, 10)
    assert first.rc == 0, first.output
    target = app.inventory.targets["web-remote"]
    try:
        for _ in range(100):
            if (await HttpUp().run(target)).status is CheckStatus.OK:
                break
            await asyncio.sleep(0.05)
        old_pid = int(Path(app.pidfile).read_text())
        params = {"stop": stop, "start": start, "health_check": "test.http", "health_timeout": 10}
        run = await app.executor.propose("service.restart", "web-remote", params, "dave")
        assert Plan.model_validate(run.plan).params["exec_target"]["transport"] == "ssh"
        started = time.monotonic()
        outcome = await app.executor.apply(run.id, "dave")
        assert outcome.ok, outcome.summary
        assert time.monotonic() - started < 8  # the daemon holding the channel's stdout did not hold us
        assert outcome.summary == "restarted; test.http: ok → ok" and outcome.details["where"] == where(sshd)
        assert [(c["step"], c["exit"]) for c in outcome.details["commands"]] == [("stop", 0), ("start", 0)]
        assert f"stopped {old_pid}" in outcome.output and int(Path(app.pidfile).read_text()) != old_pid
        evil = {"stop": ["rm", "-rf", str(app.svc)], "start": start}
        with pytest.raises(Refused, match="is not allow-listed"):
            await app.executor.propose("service.restart", "web-remote", evil, "dave")
        assert (app.svc / "control.py").exists() and app.audit.entries()[-1].kind == "refused"
    finally:
        with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):
            os.kill(int(Path(app.pidfile).read_text()), signal.SIGKILL)


async def test_host_key_mismatch_refuses_to_run_anything(world: Any, sshd: SshServer, tmp_path: Path) -> None:
    app = world
    pinned = tmp_path / "pinned_hosts"
    sshd.known_hosts_file(pinned)
    target = app.inventory.targets["box"]
    app.inventory.targets["box"] = target.model_copy(update={"labels": {**target.labels, "known_hosts": str(pinned)}})
    before = tree(app.logs)
    run = await app.executor.propose("host.clean_logs", "box", {"paths": [str(app.logs)]}, "dave")  # trusted now
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    sshd.known_hosts_file(pinned, public_key=impostor)  # the recorded key changes after the approval
    with pytest.raises(Refused, match=f"cannot run on {where(sshd)}: SSH host key of 127.0.0.1:{sshd.port} does "
                                      "not match the key recorded"):
        await app.executor.apply(run.id, "dave")
    with pytest.raises(Refused, match="does not match the key recorded"):
        await app.executor.propose("host.clean_logs", "box", {"paths": [str(app.logs)]}, "dave")
    assert tree(app.logs) == before
    refusals = [e for e in app.audit.entries() if e.kind == "refused"]
    assert len(refusals) == 2 and all("does not match the key recorded" in e.payload["reason"] for e in refusals)
    assert app.audit.verify().ok


async def test_ssh_shell_quotes_every_argument_and_returns_when_the_command_exits(sshd: SshServer,
                                                                                  tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = [f"a; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", "it's", "*", "\ttab\nnewline"]
    logins = Logins(SshSettings(known_hosts_dir=tmp_path / "ssh"))
    async with shell_for(sshd.target("box", known_hosts=str(sshd.known_hosts_file())), logins=logins) as sh:
        assert isinstance(sh, SshShell)
        done = await sh.run(["printf", "%s\\0", *hostile], 10)
        assert done.rc == 0 and done.stdout.split(b"\0")[:-1] == [h.encode() for h in hostile]
        assert not marker.exists()
        started = time.monotonic()
        daemon = await sh.run(["sh", "-c", "sleep 5 & echo started"], 10)  # the sleep keeps stdout open
        assert daemon.rc == 0 and daemon.stdout == b"started\n" and time.monotonic() - started < 3
        slow = await sh.run(["sh", "-c", "sleep 31.5 & sleep 31.5"], 0.5)  # its whole process group goes
        assert slow.timed_out and slow.rc == 124 and slow.seconds < 5
        await asyncio.sleep(1.5)  # timeout's TERM, then KILL after 1 s
        assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if b"31.5" in _read(p)]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


async def test_clean_logs_compress_mode_over_ssh_and_back(world: Any, sshd: SshServer) -> None:
    app = world
    doomed = sorted(str(app.logs / f"app-{i}.log") for i in range(5))
    for p in doomed:  # text, as logs are: it compresses
        mtime = os.lstat(p).st_mtime_ns
        Path(p).write_text("".join(f"2024-01-01 INFO request {n} served\n" for n in range(500)))
        os.utime(p, ns=(mtime, mtime))
    originals = {p: archive.sha256_file(p) for p in doomed}
    size = sum(os.path.getsize(p) for p in doomed)
    run = await app.executor.propose("host.clean_logs", "box", {"paths": [str(app.logs)], "mode": "compress"}, "dave")
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert outcome.details["compressed"] == [p + ".gz" for p in doomed] and not any(map(os.path.exists, doomed))
    assert outcome.bytes_freed == size - sum(os.path.getsize(p + ".gz") for p in doomed) > 0.9 * size
    ctx, _allow = app.executor._context("host.clean_logs", app.inventory.targets["box"])
    back = await CleanLogs().rollback(Plan.model_validate(run.plan), outcome, ctx)
    assert back.ok and {p: archive.sha256_file(p) for p in doomed} == originals
    assert not any(os.path.exists(p + ".gz") for p in doomed)
