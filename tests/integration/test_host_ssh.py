"""Host checks against a REAL OpenSSH server on loopback, and against this machine, with real faults.

* every host check over SSH (key auth, pinned host key) answers, through the real check runner;
  the local path answers the same questions about the same machine and the facts agree;
* a host key that does not match known_hosts is refused (CRITICAL, layer network), an unknown one
  is UNKNOWN, ``accept-new`` records a first key and then refuses a changed one, a key that is not
  authorised is UNKNOWN — never OK;
* a 20 MiB tmpfs filled past the threshold is ``host.disk`` CRITICAL with the mount in evidence, locally
  and over SSH; writing into it between runs gives a time-to-full from the trend stored in
  ``check_results`` (the runner's history), which escalates the finding.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import yaml

from steadyops.app import build_app
from steadyops.config.settings import Settings
from steadyops.contracts.memory import remembering
from steadyops.core.clock import SystemClock
from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus, Finding
from steadyops.execution.logins import Logins, SshSettings
from steadyops.integrations import host as host_plugin
from steadyops.integrations.host.base import HostMemory
from steadyops.integrations.host.checks import MemoryCheck
from steadyops.integrations.host.checks_fs import DiskCheck
from steadyops.integrations.host.collectors import FactsCollector
from steadyops.plugins import Registry
from steadyops.store import alerts as alerts_repo
from tests.harness.services import ServiceMissing, unavailable
from tests.harness.sshd import SshServer
from tests.harness.zookeeper import small_filesystem

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[HostMemory]:
    """What a registry's host classes share, as build_app would set it up: this test's own SSH logins
    (known_hosts under tmp_path/ssh), closed when the test ends."""
    memory = HostMemory()
    memory.logins = Logins(SshSettings(known_hosts_dir=tmp_path / "ssh"))
    yield memory
    await memory.logins.close()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    with ExitStack() as stack:
        try:
            path = stack.enter_context(small_filesystem(tmp_path / "fill", "20m"))
        except ServiceMissing as exc:
            unavailable(exc)
        yield path


def fill(path: Path, name: str, mib: float) -> None:
    with (path / name).open("wb") as fh:
        fh.write(os.urandom(int(mib * MIB)))
        fh.flush()
        os.fsync(fh.fileno())


def ssh_target(sshd: SshServer, name: str = "ssh-box", **labels: str) -> Target:
    labels.setdefault("known_hosts", str(sshd.known_hosts_file()))
    return sshd.target(name, **labels)


def local_target(name: str = "this-host", **labels: str) -> Target:
    return Target(name=name, kind="host", address="127.0.0.1", labels=labels)


def host_registry() -> Registry:
    reg = Registry()
    host_plugin.register(reg)
    return reg


def inventory_file(path: Path, *targets: Target) -> Path:
    path.write_text(yaml.safe_dump({"targets": [t.model_dump() for t in targets]}), encoding="utf-8")
    return path


def sensible(f: Finding) -> None:
    """A verdict that agrees with the numbers it reports (this machine's load is whatever it is)."""
    assert "timed out" not in f.summary and "check failed" not in f.summary, f
    if f.check == "host.systemd" and f.status is CheckStatus.UNKNOWN:
        assert "systemd" in f.summary or "not available" in f.summary  # no systemd as PID 1 here
        return
    assert f.status is not CheckStatus.UNKNOWN, f
    unsynced = "synchronised: no" in f.summary or "Not synchronised" in f.summary
    expected: dict[str, Callable[[dict[str, float]], bool]] = {
        "host.disk": lambda m: m["worst_used_pct"] < 85,
        "host.inodes": lambda m: m["worst_used_pct"] < 85,
        "host.memory": lambda m: m["available_pct"] > 10 and m["swap_used_pct"] < 50,
        "host.load": lambda m: m["load_per_core"] < 1.5,
        "host.oom": lambda m: m["recent_oom_kills"] == 0,
        "host.clock": lambda m: abs(m["skew_seconds"]) - m["uncertainty_seconds"] < 0.5 and not unsynced,
        "host.fds": lambda m: m["used_pct"] < 80,
        "host.ports": lambda m: m["missing_ports"] == 0,
        "host.systemd": lambda m: m["failed_units"] == 0,
        "host.process_fds": lambda m: m["over_threshold"] == 0 and m["processes"] > 0,
        "host.readonly": lambda m: m["read_only"] == 0,
    }
    assert (f.status is CheckStatus.OK) == expected[f.check](f.metrics), f


async def test_every_host_check_over_ssh_and_locally(make_app: Any, sshd: SshServer, tmp_path: Path) -> None:
    remote = ssh_target(sshd, expect_ports=str(sshd.port), disk_mounts="/")
    local = local_target(expect_ports=str(sshd.port), disk_mounts="/")
    app = make_app(registry=host_registry(), inventory=inventory_file(tmp_path / "inv.yaml", remote, local))
    _run_id, findings = await app.checks.inspect(app.checks.jobs())
    assert len(findings) == 2 * len(host_plugin.CHECKS)
    for f in findings:
        sensible(f)
    over_ssh = next(f for f in findings if f.target == "ssh-box" and f.check == "host.disk")
    assert any(f"@ {sshd.user}@127.0.0.1:{sshd.port}" in e.source for e in over_ssh.evidence)
    ports = {f.target: f for f in findings if f.check == "host.ports"}
    assert all(f.status is CheckStatus.OK for f in ports.values())
    facts = app.registry.collectors.get(FactsCollector.name)  # bound to this App's SSH logins
    remote_facts = (await facts().collect(remote)).data
    local_facts = (await facts().collect(local)).data
    await app.shutdown()
    assert remote_facts["ok"] and local_facts["ok"], (remote_facts, local_facts)
    for key in ("os", "kernel", "hostname", "cpus"):  # one machine, two paths, same answers
        assert remote_facts[key] == local_facts[key]
    assert remote_facts["memory"]["total"] == local_facts["memory"]["total"]


async def test_host_key_mismatch_is_refused_never_ok(sshd: SshServer, memory: HostMemory, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    pinned = sshd.known_hosts_file(tmp_path / "known_hosts", public_key=impostor)
    target = ssh_target(sshd, known_hosts=str(pinned))
    results = await asyncio.gather(*(remembering(check, memory)().run(target) for check in host_plugin.CHECKS))
    for r in results:
        assert (r.status, r.layer) == (CheckStatus.CRITICAL, "network"), r
        assert f"SSH host key of 127.0.0.1:{sshd.port} does not match the key recorded in {pinned}" in r.summary
    other = tmp_path / "other_hosts"
    other.write_text(f"[127.0.0.1]:1 {sshd.host_public_key}\n")
    r = await remembering(MemoryCheck, memory)().run(ssh_target(sshd, known_hosts=str(other)))
    assert (r.status, r.layer) == (CheckStatus.UNKNOWN, "network") and "is unknown" in r.summary


async def test_accept_new_records_the_key_then_refuses_a_changed_one(sshd: SshServer, memory: HostMemory,
                                                                      tmp_path: Path) -> None:
    check = remembering(MemoryCheck, memory)  # as the registry binds it
    target = ssh_target(sshd, known_hosts="accept-new")
    assert (await check().run(target)).status is CheckStatus.OK
    recorded = tmp_path / "ssh" / "known_hosts"
    key_type, key_data = sshd.host_public_key.split()[:2]
    assert recorded.read_text() == f"[127.0.0.1]:{sshd.port} {key_type} {key_data}\n"
    assert oct(recorded.stat().st_mode & 0o777) == "0o600"
    await memory.logins.close()  # the next login verifies the key again
    assert (await check().run(target)).status is CheckStatus.OK
    await memory.logins.close()
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    recorded.write_text(f"[127.0.0.1]:{sshd.port} {impostor[0]} {impostor[1]}\n")
    r = await check().run(target)
    assert (r.status, r.layer) == (CheckStatus.CRITICAL, "network") and "does not match" in r.summary
    by_name = target.model_copy(update={"address": f"localhost:{sshd.port}"})  # recorded only by IP
    r = await check().run(by_name)
    assert (r.status, r.layer) == (CheckStatus.CRITICAL, "network"), r  # accept-new must not replace it
    unpinned = ssh_target(sshd, "unpinned", known_hosts="insecure-ignore")
    assert (await check().run(unpinned)).status is CheckStatus.OK  # only because it says so
    # another App (its own data dir) recorded nothing: accept-new there records the key there
    other = HostMemory()
    other.logins = Logins(SshSettings(known_hosts_dir=tmp_path / "other-app" / "ssh"))
    assert (await remembering(MemoryCheck, other)().run(target)).status is CheckStatus.OK
    assert (tmp_path / "other-app" / "ssh" / "known_hosts").read_text().split()[1:] == [key_type, key_data]
    await other.logins.close()


async def test_unauthorised_key_is_refused(sshd: SshServer, memory: HostMemory, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(stranger))
    target = ssh_target(sshd).model_copy(update={"credentials": f"file:{stranger}"})
    r = await remembering(MemoryCheck, memory)().run(target)
    assert (r.status, r.layer) == (CheckStatus.UNKNOWN, "config") and "is not authorised" in r.summary


@pytest.mark.parametrize("transport", ["local", "ssh"])
async def test_full_filesystem_is_critical_with_the_mount_in_evidence(sshd: SshServer, tmpfs: Path, memory: HostMemory,
                                                                      transport: str) -> None:
    target = local_target() if transport == "local" else ssh_target(sshd)
    disk = remembering(DiskCheck, memory)
    fill(tmpfs, "big.bin", 19.5)
    r = await disk().run(target)
    assert (r.status, r.layer) == (CheckStatus.CRITICAL, "disk"), r
    assert r.metrics[f"used_pct:{tmpfs}"] >= 95
    mine = [e for e in r.evidence if e.source == f"mount {tmpfs}"]
    assert mine and f"tmpfs (tmpfs) on {tmpfs}: 97." in mine[0].detail
    assert str(tmpfs) in r.summary and r.labels["mount"]
    (tmpfs / "big.bin").unlink()
    r = await disk().run(target.model_copy(update={"labels": {**target.labels, "disk_mounts": str(tmpfs)}}))
    assert r.status is CheckStatus.OK and r.metrics[f"used_pct:{tmpfs}"] < 5


@pytest.mark.parametrize("transport", ["local", "ssh"])
async def test_time_to_full_from_a_rising_trend_in_the_store(sshd: SshServer, tmpfs: Path, tmp_path: Path,
                                                             transport: str) -> None:
    labels = {"disk_mounts": str(tmpfs), "disk_ttf_min_pct": "0"}
    target = local_target("filling", **labels) if transport == "local" else ssh_target(sshd, "filling", **labels)
    app = build_app(Settings(data_dir=tmp_path / "data", inventory=inventory_file(tmp_path / "inv.yaml", target)),
                    clock=SystemClock(), registry=host_registry())
    try:
        # no history set by hand: build_app's plugin setup points this registry's at the stored results
        jobs = app.checks.jobs(checks=["host.disk"])
        findings: list[Finding] = []
        for step in range(4):
            fill(tmpfs, f"chunk-{step}.bin", 2)
            findings.extend((await app.checks.inspect(jobs))[1])
            await asyncio.sleep(0.3)
        first, last = findings[0], findings[-1]
        assert first.status is CheckStatus.OK and f"hours_to_full:{tmpfs}" not in first.metrics
        assert last.metrics[f"used_pct:{tmpfs}"] < 85  # not full: the trend is what makes it critical
        hours = last.metrics[f"hours_to_full:{tmpfs}"]
        assert 0 < hours < 0.05, hours  # ~12 MiB left at ~5 MiB/s
        assert (last.status, last.layer, last.labels) == (CheckStatus.CRITICAL, "disk", {"mount": str(tmpfs)})
        assert "full in ~" in last.summary
        with app.store.transaction() as s:
            alerts = [alerts_repo.row_to_alert(row) for row in alerts_repo.pending_events(s, 100)]
        assert [a.labels["mount"] for a in alerts if a.labels["alertname"] == "host.disk"] == [str(tmpfs)]
    finally:
        await app.shutdown()
        app.close()
