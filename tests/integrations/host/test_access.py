"""Host access: the allow-list, local vs SSH selection, SSH settings from labels, keys, known-hosts policy."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.execution.access import CommandResult, LocalHost, trim
from steadyops.execution.errors import HostAccessError
from steadyops.execution.logins import Logins, SshSettings
from steadyops.execution.ssh import SshHost, SshSpec, _trust, load_client_key
from steadyops.execution.where import host_for, is_local
from steadyops.integrations.host.base import READS

DEFAULTS = SshSettings()


@pytest.fixture
def ssh_dir(tmp_path: Path) -> Path:
    return tmp_path / "ssh"


@pytest.fixture
def settings(ssh_dir: Path) -> SshSettings:
    """One App's SSH settings: its own known_hosts under its data dir."""
    return SshSettings(known_hosts_dir=ssh_dir)


def t(address: str = "10.0.0.5", credentials: str | None = "file:/keys/id", **labels: str) -> Target:
    return Target(name="h", kind="host", address=address, labels=labels, credentials=credentials)


async def test_allow_list_refuses_anything_else() -> None:
    host = LocalHost(READS)
    with pytest.raises(PermissionError):
        await host.run("rm", "-rf", "/tmp/x")
    with pytest.raises(PermissionError):
        await host.run("df", "-P", "/")  # exact argv only
    with pytest.raises(PermissionError):
        await host.read("/etc/shadow")


async def test_local_host_runs_and_reads() -> None:
    host = LocalHost(READS)
    nproc = await host.run("nproc")
    assert nproc.ok and int(nproc.stdout) >= 1 and nproc.started <= nproc.finished
    assert "MemTotal" in await host.read("/proc/meminfo")
    missing = await host._exec(("steadyops-no-such-command",))
    assert missing.missing and "not available on local" in missing.describe_failure()
    with pytest.raises(HostAccessError) as err:
        await host._read("/proc/steadyops-nothing-here")
    assert err.value.layer == "host"


def test_local_or_ssh() -> None:
    assert is_local(t("127.0.0.1", None)) and is_local(t("", None)) and is_local(t("localhost:22", None))
    assert not is_local(t("127.0.0.1:2222"))  # credentials: a login, even on loopback (the test sshd)
    assert is_local(t("10.0.0.5", None, local="true")) and is_local(t("10.0.0.5", transport="local"))
    assert not is_local(t("127.0.0.1", None, transport="ssh"))
    assert not is_local(t("10.0.0.5", None))
    logins = Logins()
    assert isinstance(host_for(t("10.0.0.5"), READS, logins), SshHost)
    assert isinstance(host_for(t("127.0.0.1", None), READS, logins), LocalHost)


def test_ssh_spec_from_labels() -> None:
    spec = SshSpec.from_target(t("10.0.0.5"), DEFAULTS)
    assert (spec.host, spec.port, spec.username, spec.known_hosts) == ("10.0.0.5", 22, "root", "")
    spec = SshSpec.from_target(t("db-1.example.com:2222", ssh_user="ops", ssh_port="23", known_hosts="accept-new"),
                               DEFAULTS)
    assert (spec.host, spec.port, spec.username, spec.known_hosts) == ("db-1.example.com", 2222, "ops", "accept-new")
    assert SshSpec.from_target(t("db-1", ssh_port="2200"), DEFAULTS).port == 2200
    assert SshSpec.from_target(t("[fd00::5]:2022"), DEFAULTS).host == "fd00::5"
    assert SshSpec.from_target(t("10.0.0.5", ssh_timeout="1.5"), DEFAULTS).connect_timeout == 1.5
    for bad in (t("10.0.0.5", None), t("", "file:/k"), t("db-1", ssh_port="ssh")):
        with pytest.raises(HostAccessError) as err:
            SshSpec.from_target(bad, DEFAULTS)
        assert err.value.layer == "config"


def test_client_key_loading_never_leaks_the_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    monkeypatch.setenv("STEADYOPS_TEST_SSH_KEY", key.export_private_key().decode())
    assert load_client_key("env:STEADYOPS_TEST_SSH_KEY").public_data == key.public_data
    path = tmp_path / "id"
    key.write_private_key(str(path))
    assert load_client_key(f"file:{path}").public_data == key.public_data
    monkeypatch.setenv("STEADYOPS_TEST_SSH_KEY", "hunter2-not-a-key")
    for ref in ("env:STEADYOPS_TEST_SSH_KEY", "env:STEADYOPS_TEST_UNSET", f"file:{tmp_path / 'nope'}"):
        with pytest.raises(HostAccessError) as err:
            load_client_key(ref)
        assert err.value.layer == "config" and "hunter2" not in err.value.message


def test_known_hosts_policies(ssh_dir: Path, settings: SshSettings, tmp_path: Path) -> None:
    spec = SshSpec.from_target(t("127.0.0.1:2222", known_hosts="insecure-ignore"), settings)
    assert _trust(spec, settings).known_hosts is None  # only when written down for this target
    spec = SshSpec.from_target(t("127.0.0.1:2222", known_hosts=str(tmp_path / "missing")), settings)
    with pytest.raises(HostAccessError) as err:
        _trust(spec, settings)
    assert err.value.layer == "config"
    new = _trust(SshSpec.from_target(t("127.0.0.1:2222", known_hosts="accept-new"), settings), settings)
    assert new.tofu_file == ssh_dir / "known_hosts" and not new.has_entry
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    ssh_dir.mkdir()
    (ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:2222 {key}")
    known = _trust(SshSpec.from_target(t("127.0.0.1:2222", known_hosts="accept-new"), settings), settings)
    assert known.has_entry and known.tofu_file is None  # recorded: a different key is now a mismatch
    tofu = SshSpec.from_target(t("127.0.0.1:2222", known_hosts="accept-new"), settings)
    assert not _trust(SshSpec.from_target(t("127.0.0.1:2223", known_hosts="accept-new"), settings), settings).has_entry
    strict = _trust(SshSpec.from_target(t("127.0.0.1:2222"), settings), settings)
    assert strict.has_entry and strict.tofu_file is None and ssh_dir / "known_hosts" in strict.files
    # another App (its own data dir) has recorded nothing: its accept-new would record there, not here
    other = SshSettings(known_hosts_dir=tmp_path / "other-app" / "ssh")
    elsewhere = _trust(tofu, other)
    assert not elsewhere.has_entry and elsewhere.tofu_file == other.own_known_hosts


async def test_connection_refused_is_unknown_network(settings: SshSettings, tmp_path: Path) -> None:
    key = tmp_path / "id"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    logins = Logins(settings)
    host = SshHost.for_target(t("127.0.0.1:1", f"file:{key}", known_hosts="insecure-ignore", ssh_timeout="2"), READS,
                              logins)
    with pytest.raises(HostAccessError) as err:
        await host.run("nproc")
    await logins.close()
    assert (err.value.status, err.value.layer) == (CheckStatus.UNKNOWN, "network")
    assert "cannot reach 127.0.0.1:1 over SSH" in err.value.message


def test_evidence_is_trimmed() -> None:
    assert trim("x" * 2000).endswith("(1200 more characters)")
    result = CommandResult(("df", "-PT"), 0, "y" * 5000, "", "root@h:22")
    assert result.evidence().source == "df -PT @ root@h:22" and len(result.evidence().detail) < 900
