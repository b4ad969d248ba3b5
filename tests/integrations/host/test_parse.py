"""Every host parser against real captured output (see data/README.md for where each came from)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from steadyops.integrations.host.parse import (
    mem_available,
    parse_chrony_tracking,
    parse_df,
    parse_epoch,
    parse_file_nr,
    parse_int,
    parse_keyvalues,
    parse_loadavg,
    parse_meminfo,
    parse_oom_kills,
    parse_os_release,
    parse_port_list,
    parse_proc_net_tcp,
    parse_ps,
    parse_ss_listen,
    parse_systemctl_failed,
    parse_uptime,
)

Sample = Callable[[str], str]


def test_df_typed_bytes(sample: Sample) -> None:
    mounts = {m.mount: m for m in parse_df(sample("df_PT.txt"))}
    root = mounts["/"]
    assert (root.filesystem, root.fstype) == ("/dev/vda", "ext4")
    assert root.total == 264212084 * 1024 and root.used == 24677476 * 1024 and root.avail == 81713436 * 1024
    assert root.used_pct == pytest.approx(23.20, abs=0.01)  # used / (used + avail), like df's Capacity
    assert mounts["/dev/shm"].fstype == "tmpfs"


def test_df_untyped_and_typed_agree(sample: Sample) -> None:
    typed = [(m.filesystem, m.mount, m.total) for m in parse_df(sample("df_PT.txt"))]
    plain = [(m.filesystem, m.mount, m.total) for m in parse_df(sample("df_P.txt"))]
    assert typed == plain
    assert all(m.fstype == "" for m in parse_df(sample("df_P.txt")))


def test_df_inodes(sample: Sample) -> None:
    root = {m.mount: m for m in parse_df(sample("df_PTi.txt"))}["/"]
    assert (root.total, root.used, root.avail) == (16777216, 444272, 16332944)  # counts, no block unit
    assert {m.mount for m in parse_df(sample("df_Pi.txt"))} == {"/dev", "/dev/shm", "/", "/sys/fs/cgroup"}


def test_df_full_disk_snap_and_space_in_mount_point(sample: Sample) -> None:
    mounts = {m.mount: m for m in parse_df(sample("df_PT_full.txt"))}
    assert mounts["/"].used_pct == pytest.approx(97.73, abs=0.01)
    assert mounts["/snap/core20/2105"].fstype == "squashfs"
    assert "/var/lib/my data" in mounts


def test_df_busybox(sample: Sample) -> None:
    mounts = parse_df(sample("df_busybox.txt"))
    assert [m.mount for m in mounts] == ["/", "/dev", "/dev/shm", "/etc/hosts"]
    assert mounts[0].used == 38128212 * 1024


def test_df_garbage_is_empty() -> None:
    assert parse_df("") == []
    assert parse_df("df: invalid option -- 'T'\n") == []


def test_meminfo(sample: Sample) -> None:
    info = parse_meminfo(sample("meminfo.txt"))
    assert info["MemTotal"] == 24684084 * 1024
    assert info["HugePages_Total"] == 0  # a count, not kB
    assert mem_available(info) == info["MemAvailable"]
    del info["MemAvailable"]
    assert mem_available(info) == info["MemFree"] + info["Buffers"] + info["Cached"]


def test_loadavg_uptime_file_nr_vmstat(sample: Sample) -> None:
    load = parse_loadavg(sample("loadavg.txt"))
    assert (load.load1, load.load5, load.load15, load.running, load.threads) == (3.82, 2.81, 1.7, 12, 267)
    assert parse_uptime(sample("uptime.txt")) == 1474.71
    assert parse_file_nr(sample("file-nr.txt")) == (1704, 0, 2466170)
    vm = parse_keyvalues(sample("vmstat.txt"))
    assert vm["oom_kill"] == 0 and "nr_free_pages" in vm
    with pytest.raises(ValueError):
        parse_loadavg("garbage")


def test_oom_kills_from_dmesg_and_journal(sample: Sample) -> None:
    kills = parse_oom_kills(sample("dmesg_oom.txt"))
    assert [(k.at, k.pid, k.comm) for k in kills] == [(5632.218615, 2211, "python3"), (7101.504733, 3377, "java")]
    assert "Memory cgroup out of memory" in kills[1].line
    journal = parse_oom_kills(sample("journal_oom.txt"))
    assert [(k.at, k.pid, k.comm) for k in journal] == [(5632.218615, 2211, "python3")]
    assert parse_oom_kills(sample("uptime.txt")) == []


def test_ss_listen(sample: Sample) -> None:
    captured = parse_ss_listen(sample("ss_ltn.txt"))
    assert ("0.0.0.0", 2024) in captured and ("127.0.0.1", 5432) in captured and ("::1", 6379) in captured
    server = parse_ss_listen(sample("ss_ltn_server.txt"))
    assert server == {("0.0.0.0", 22), ("0.0.0.0", 80), ("127.0.0.53", 53), ("::", 22), ("*", 8080)}


def test_proc_net_tcp_agrees_with_ss(sample: Sample) -> None:
    """The fallback for hosts without ss must see the same listeners ss saw (same machine, same moment)."""
    v4 = parse_proc_net_tcp(sample("proc_net_tcp.txt"))
    v6 = parse_proc_net_tcp(sample("proc_net_tcp6.txt"))
    assert ("0.0.0.0", 2024) in v4 and ("127.0.0.1", 5432) in v4
    assert v6 == {("::1", 4369), ("::1", 6379)}
    ss_ports = {p for _a, p in parse_ss_listen(sample("ss_ltn.txt"))}
    assert {p for _a, p in v4 | v6} >= ss_ports - {44647}  # one listener came and went between captures


def test_systemctl_failed(sample: Sample) -> None:
    units = parse_systemctl_failed(sample("systemctl_failed.txt"))
    assert [u.unit for u in units] == ["nginx.service", "logrotate.service"]
    assert units[0].description.startswith("A high performance web server")
    assert parse_systemctl_failed(sample("systemctl_failed_bullets.txt")) == units
    assert parse_systemctl_failed("") == []


def test_epoch_chrony_os_release_ps_int() -> None:
    assert parse_epoch("1795424277.229959901\n") == pytest.approx(1795424277.229959901)
    assert parse_epoch("1795424277.N\n") == 1795424277.0  # BusyBox date has no %N
    with pytest.raises(ValueError):
        parse_epoch("date: invalid date")
    assert parse_int("2\n") == 2


def test_chrony_os_release_ps(sample: Sample) -> None:
    tracking = parse_chrony_tracking(sample("chronyc_tracking.txt"))
    assert tracking.offset == pytest.approx(-0.000012345)
    assert tracking.leap_status == "Normal"
    assert parse_os_release(sample("os-release.txt"))["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    rows = parse_ps(sample("ps.txt"))
    assert len(rows) == 7
    assert rows[0] == {"pid": 14626, "user": "root", "cpu_percent": 45.5, "mem_percent": 0.2, "rss": 54984 * 1024,
                       "name": "java"}


def test_port_list() -> None:
    assert parse_port_list("22,80 443") == [22, 80, 443]
    assert parse_port_list("") == []
    for bad in ("http", "70000"):
        with pytest.raises(ValueError):
            parse_port_list(bad)
