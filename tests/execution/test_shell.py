"""The execution layer of actions: quoting, parsers, where a plan runs, and every verb run locally.

The verbs are GNU command lines built on ``run``; :class:`LocalShell` runs the very same lines as
:class:`SshShell`, so running them here tests what a remote host gets (minus the login, which
``tests/integration/test_remote_actions.py`` covers against a real sshd). ``GnuLocal`` also swaps the
local archive code for the tar-based one remote hosts use, and its archives must verify both ways.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shlex
import tarfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Plan, Risk
from steadyops.execution import archive
from steadyops.execution.errors import ShellError
from steadyops.execution.logins import Logins
from steadyops.execution.shell import (
    Completed,
    Guard,
    LocalShell,
    Shell,
    SshShell,
    Stat,
    check_manifest,
    parse_find,
    parse_sha256sum,
    remote_command,
    shell_for,
    shell_for_plan,
)
from steadyops.execution.where import EXEC_KEY, exec_record

HOSTILE = ["a; rm -rf /", "$(reboot)", "`id`", "it's", 'say "hi"', "*", "-rf", "--", "\ttab\nnewline", "é ü", ""]
WEIRD = ["plain.log", "with space.log", "-dash.log", "tab\there.log", "new\nline.log", "back\\slash.log", "ünï.log"]


class GnuLocal(LocalShell):
    """This machine, but archiving with tar exactly as a remote host does."""

    archive = Shell.archive
    verify_archive = Shell.verify_archive
    restore = Shell.restore
    fs = Shell.fs  # the program sent over SSH, run as a local python3 process


def plan_with(params: dict[str, object]) -> Plan:
    return Plan(action="x", target="t", params=params, risk=Risk.LOW, steps=[], expected_effect="",
                created_at=datetime.now(UTC))


# -- pure helpers ---------------------------------------------------------------------------------

def test_remote_command_quotes_every_argument_as_one_word() -> None:
    line = remote_command(["printf", "%s", *HOSTILE])
    assert shlex.split(line) == ["printf", "%s", *HOSTILE]  # what the remote login shell will see
    with pytest.raises(ValueError, match="empty"):
        remote_command([])  # an empty line would open a login shell


def test_parse_find_keeps_tabs_and_newlines_in_names() -> None:
    out = b"f\t12\t1700000000.1234567890\t/x/tab\there\nnew\x00d\t4096\t1.5\t/x\x00l\t3\t2.0\t/x/\xffraw\x00"
    assert parse_find(out) == {"/x/tab\there\nnew": Stat("f", 12, 1700000000.123456789), "/x": Stat("d", 4096, 1.5),
                               os.fsdecode(b"/x/\xffraw"): Stat("l", 3, 2.0)}
    assert parse_find(b"") == {}


def test_parse_sha256sum_reads_escaped_lines_and_refuses_garbage() -> None:
    a, b = "a" * 64, "0123456789abcdef" * 4
    assert parse_sha256sum(f"{a}  /x/plain\n\\{b}  /x/new\\nline\n".encode()) == [a, b]
    with pytest.raises(ShellError, match="unexpected sha256sum output"):
        parse_sha256sum(b"sha256sum: /x: No such file or directory\n")


def test_check_manifest_names_what_is_wrong() -> None:
    man = {"/a": "1" * 64, "/b": "2" * 64}
    assert check_manifest("d", man, ["a", "b", archive.MANIFEST], ["1" * 64, "2" * 64, "f" * 64]) == man
    with pytest.raises(ValueError, match="/b missing from archive"):
        check_manifest("d", man, ["a", archive.MANIFEST], ["1" * 64, "f" * 64])
    with pytest.raises(ValueError, match="/c is not in the manifest"):
        check_manifest("d", man, ["a", "b", "c"], ["1" * 64, "2" * 64, "3" * 64])
    with pytest.raises(ValueError, match="/b does not match its checksum"):
        check_manifest("d", man, ["a", "b"], ["1" * 64, "3" * 64])
    with pytest.raises(ValueError, match="3 members but 2 regular files"):
        check_manifest("d", man, ["a", "b", archive.MANIFEST], ["1" * 64, "2" * 64])


def test_stat_same_file_tolerates_float_noise_not_change() -> None:
    st = Stat("f", 10, 1700000000.1234567)
    assert st.same_file(10, 1700000000.1234568) and not st.same_file(11, st.mtime)
    assert not st.same_file(10, st.mtime + 0.01) and not st.same_file(10, None)
    assert not Stat("l", 10, st.mtime).same_file(10, st.mtime)  # replaced by a symlink: not the planned file


# -- where a plan runs ----------------------------------------------------------------------------

def test_exec_record_follows_the_host_rule_and_keeps_service_ports_apart() -> None:
    assert exec_record(Target(name="h", kind="host", address="127.0.0.1")) == {"transport": "local"}
    ssh = exec_record(Target(name="h", kind="host", address="10.0.0.5:2222", credentials="file:/k",
                             labels={"ssh_user": "ops", "known_hosts": "/kh", "env": "prod"}))
    assert ssh == {"transport": "ssh", "name": "h", "address": "10.0.0.5:2222", "credentials": "file:/k",
                   "labels": {"ssh_user": "ops", "known_hosts": "/kh"}}  # only what shapes the login
    assert exec_record(Target(name="zk", kind="zookeeper", address="127.0.0.1:2181")) == {"transport": "local"}
    zk = exec_record(Target(name="zk", kind="zookeeper", address="127.0.0.1:2181", credentials="file:/k",
                            labels={"transport": "ssh", "ssh_port": "2200"}))
    assert zk["address"] == "127.0.0.1:2200"  # SSH to the server's host, not to ZooKeeper's client port
    assert exec_record(Target(name="zk", kind="zookeeper", address="[fe80::1]:2181"))["address"] == "[fe80::1]:22"
    db = Target(name="db", kind="mysql", address="127.0.0.1:3306", credentials="env:DB_PASSWORD")
    assert exec_record(db) == {"transport": "local"}  # a database password does not mean "log in over SSH"
    remote_db = db.model_copy(update={"address": "10.0.0.9:3306", "labels": {"ssh_credentials": "file:/k"}})
    assert exec_record(remote_db)["credentials"] == "file:/k"
    with pytest.raises(Refused, match="cannot tell how to reach zk"):
        exec_record(Target(name="zk", kind="zookeeper", address="10.0.0.9:2181", labels={"ssh_port": "ssh"}))


def test_shell_for_plan_never_guesses() -> None:
    assert isinstance(shell_for_plan(plan_with({EXEC_KEY: {"transport": "local"}})), LocalShell)
    with pytest.raises(Refused, match="does not say where it runs"):
        shell_for_plan(plan_with({}))
    with pytest.raises(Refused, match="unknown transport"):
        shell_for_plan(plan_with({EXEC_KEY: {"transport": "telnet"}}))
    logins = Logins()  # an App's SSH (build_app makes one per App, under its data dir)
    with pytest.raises(Refused, match="cannot run on db-1: no SSH key for target db-1"):
        shell_for(Target(name="db-1", kind="host", address="10.0.0.7"), logins=logins)
    remote = Target(name="db-1", kind="host", address="10.0.0.7", credentials="file:/k", labels={"ssh_user": "ops"})
    sh = shell_for(remote, logins=logins)
    assert isinstance(sh, SshShell) and sh.remote and sh.where == "ops@10.0.0.7:22"  # no login until used
    with pytest.raises(Refused, match="no SSH logins were given"):  # never a process-wide default
        shell_for(remote)


# -- the verbs, run here ----------------------------------------------------------------------------

async def test_run_passes_argv_verbatim_and_kills_on_timeout(tmp_path: Path) -> None:
    sh = LocalShell()
    done = await sh.run(["printf", "%s\\0", *HOSTILE], 5)
    assert done.rc == 0 and done.stdout.split(b"\0")[:-1] == [h.encode() for h in HOSTILE]
    missing = await sh.run(["/nonexistent/tool"], 5)
    assert missing.rc == 127 and "nonexistent" in missing.output
    started = time.monotonic()
    daemon = await sh.run(["sh", "-c", "sleep 5 & echo started"], 5)  # the sleep holds stdout: not our problem
    assert daemon.stdout == b"started\n" and time.monotonic() - started < 3
    slow = await sh.run(["sleep", "5"], 0.2)
    assert slow.timed_out and slow.rc != 0 and slow.seconds < 2
    with pytest.raises(ShellError, match=r"`false` failed on this host \(exit 1\)"):
        await sh.call(["false"])


async def test_list_files_stats_and_realpaths(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    (root / "sub").mkdir(parents=True)
    old = time.time() - 3 * 86400
    for rel in ("a.log", "b.txt", "sub/c.log", "tab\there.log"):
        (root / rel).write_bytes(b"x" * 7)
        os.utime(root / rel, (old, old))
    (root / "new.log").write_text("fresh")
    (tmp_path / "secret.log").write_text("s")
    os.utime(tmp_path / "secret.log", (old, old))
    (root / "link.log").symlink_to(tmp_path / "secret.log")
    (root / "dirlink").symlink_to(tmp_path)
    sh = LocalShell()
    deep = await sh.list_files(str(root), ["*.log"], 86400, True)
    assert [Path(p).relative_to(root).as_posix() for p, _s, _m in deep] == ["a.log", "sub/c.log", "tab\there.log"]
    assert all(size == 7 for _p, size, _m in deep)
    flat = await sh.list_files(str(root), ["*.log", "*.txt"], None, False)
    assert {Path(p).name for p, _s, _m in flat} == {"a.log", "b.txt", "new.log", "tab\there.log"}
    with pytest.raises(Refused, match="not absolute"):
        await sh.list_files("-delete", ["*"], None, True)  # would be an option to find
    st = await sh.stats([str(root / "a.log"), str(root), str(root / "link.log"), str(root / "gone"), "relative"])
    assert [s.kind if s else None for s in st.values()] == ["f", "d", "l", None, None]
    a_log = st[str(root / "a.log")]
    assert a_log is not None and a_log.same_file(7, os.lstat(root / "a.log").st_mtime)
    reals = await sh.realpaths([str(root / "link.log"), str(root / "dirlink/absent/x.log"), str(root / "a.log")])
    assert list(reals.values()) == [str(tmp_path / "secret.log"), str(tmp_path / "absent/x.log"), str(root / "a.log")]
    assert await sh.sha256(str(root / "a.log")) == archive.sha256_file(root / "a.log")


async def test_guard_judges_the_real_path(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    (tmp_path / "etc").mkdir()
    (root / "escape").symlink_to(tmp_path / "etc")
    (root / "inside").symlink_to(root)
    guard = Guard(LocalShell(), [str(root)])
    assert await guard.check([str(root / "inside" / "x.log")]) == {str(root / "inside" / "x.log"): str(root / "x.log")}
    for bad, why in [("logs", "is not absolute"), (f"{root}/../etc", "contains '..'"),
                     (str(tmp_path / "etc"), "is outside the allow-list"),
                     (str(root / "escape"), "resolves to .* \\(via a symlink\\), outside the allow-list"),
                     (str(root / "escape" / "not-yet.log"), "via a symlink")]:  # what a restore would write through
        with pytest.raises(Refused, match=why):
            await guard.check([bad])
    with pytest.raises(Refused, match="nothing allowed"):
        await Guard(LocalShell(), []).check([str(root)])


@pytest.mark.parametrize("shell", [GnuLocal, LocalShell], ids=["tar", "python"])
async def test_archive_verify_restore_round_trip(tmp_path: Path, shell: type[LocalShell]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    files = []
    for i, name in enumerate(WEIRD):
        p = src / name
        p.write_bytes(os.urandom(1000 + i))
        os.utime(p, ns=(1_700_000_000_123_456_789 + i,) * 2)
        files.append(str(p))
    (src / "hard.log").hardlink_to(src / "plain.log")  # two names, one inode: both archived in full
    files.append(str(src / "hard.log"))
    before = {f: (archive.sha256_file(f), os.lstat(f).st_mtime_ns) for f in files}
    sh = shell()
    dest = str(tmp_path / "backups" / "a.tar.gz")
    sums, size = await sh.archive(dest, files)
    assert sums == {f: h for f, (h, _m) in before.items()} and size == os.path.getsize(dest)
    assert await sh.verify_archive(dest) == sums == archive.verify(Path(dest))  # either reader, same verdict
    assert sorted(os.listdir(tmp_path / "backups")) == ["a.tar.gz"]  # no partial, no staging dir left behind
    with pytest.raises((FileExistsError, ShellError)):
        await sh.archive(dest, files[:1])  # an archive is never replaced
    for f in files[:3]:
        os.unlink(f)
    restored = await sh.restore(dest)
    assert sorted(restored) == sorted(files[:3])
    after = {f: (archive.sha256_file(f), os.lstat(f).st_mtime_ns) for f in files}
    if shell is GnuLocal:
        assert after == before  # pax keeps nanoseconds
    else:
        assert {f: h for f, (h, _m) in after.items()} == {f: h for f, (h, _m) in before.items()}


async def test_tar_verify_catches_a_forged_manifest(tmp_path: Path) -> None:
    victim = tmp_path / "v.log"
    victim.write_bytes(b"real bytes")
    dest = tmp_path / "forged.tar.gz"
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(victim, arcname=str(victim).lstrip("/"))
        data = json.dumps({str(victim): "0" * 64}).encode()
        info = tarfile.TarInfo(archive.MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ValueError, match="does not match its checksum"):
        await GnuLocal().verify_archive(str(dest))
    with pytest.raises(ShellError):
        await GnuLocal().verify_archive(str(tmp_path / "missing.tar.gz"))


@pytest.mark.parametrize("shell", [LocalShell, GnuLocal])
async def test_fs_removes_only_the_planned_object_and_reports_each_file(tmp_path: Path, shell: type[Shell]) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    a, b, c = root / "a", root / "sub" / "b c", root / "sub" / "c"
    for f in (a, b, c):
        f.write_text("1")
    (tmp_path / "outside").write_text("secret")
    (root / "link").symlink_to(tmp_path)
    st_c = c.stat()
    sh = shell()
    ids = await sh.fs({"op": "identify", "roots": [str(root)], "entries": [{"path": str(a)}]})
    assert ids[0]["ino"] == a.stat().st_ino and ids[0]["kind"] == "f"
    results = await sh.fs({"op": "remove", "roots": [str(root)], "entries": [
        {"path": str(a), "ino": a.stat().st_ino, "dev": a.stat().st_dev},
        {"path": str(b)},
        {"path": str(c), "ino": st_c.st_ino + 1},                 # not the object planned
        {"path": str(root / "link" / "outside")},                 # through a symlink
        {"path": str(tmp_path / "outside")},                      # outside the root
        {"path": str(root / "gone")},
    ]})
    done = {r["path"]: r["done"] for r in results}
    assert done == {str(a): "deleted", str(b): "deleted", str(c): "skipped", str(root / "link" / "outside"): "refused",
                    str(tmp_path / "outside"): "refused", str(root / "gone"): "skipped"}
    assert not a.exists() and not b.exists() and c.exists() and (tmp_path / "outside").exists()


async def test_fs_refuses_a_root_that_is_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    results = await LocalShell().fs({"op": "remove", "roots": [str(tmp_path / "alias")],
                                     "entries": [{"path": str(tmp_path / "alias" / "f")}]})
    assert results[0]["done"] == "refused" and (tmp_path / "real" / "f").exists()


async def test_fs_without_python3_on_the_host_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # env is found by its absolute path below; python3 is not
    sh = GnuLocal()
    real_exec = sh._exec

    async def without_python(argv: Sequence[str], timeout: float, input: bytes | None = None) -> Completed:
        return await real_exec(["/usr/bin/env", *argv[1:]], timeout, input)

    monkeypatch.setattr(sh, "_exec", without_python)
    with pytest.raises(Refused, match="python3 is not available"):
        await sh.fs({"op": "remove", "roots": [str(tmp_path)], "entries": []})


async def test_cancellation_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    task = asyncio.ensure_future(LocalShell().run(["sh", "-c", f"sleep 1.2; touch '{marker}'"], 10))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(1.3)
    assert not marker.exists()
