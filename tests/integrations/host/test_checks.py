"""Host checks judged on captured outputs served by a fake host (the SSH and local paths share them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.execution.access import CommandResult
from steadyops.integrations import host as host_plugin
from steadyops.integrations.host import base, collectors
from steadyops.integrations.host.checks import (
    ClockCheck,
    FdsCheck,
    LoadCheck,
    MemoryCheck,
    OomCheck,
    PortsCheck,
    SystemdCheck,
)
from steadyops.integrations.host.checks_fs import DiskCheck, InodesCheck
from steadyops.integrations.host.trend import MemoryHistory
from steadyops.plugins import Registry

Sample = Callable[[str], str]
DF = ("df", "-PT")
GIB = 1024**3


def target(**labels: str) -> Target:
    return Target(name="web-1", kind="host", address="10.0.0.5", labels=labels, credentials="env:UNUSED_KEY")


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, fake_host: Any) -> Callable[..., Any]:
    """``serve(files=..., commands=...)``: every check and collector talks to that fake host."""

    def _serve(**kwargs: Any) -> Any:
        fake = fake_host(**kwargs)
        monkeypatch.setattr(base, "host_for", lambda _t, _reads, _logins: fake)
        monkeypatch.setattr(collectors, "host_for", lambda _t, _reads, _logins: fake)
        return fake

    return _serve


def failed(argv: tuple[str, ...], rc: int, stderr: str) -> CommandResult:
    return CommandResult(argv, rc, "", stderr, "fake-host")


# --- disk and inodes ----------------------------------------------------------------------------

async def test_disk_healthy(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    serve(commands={DF: sample("df_PT.txt")})
    r = await DiskCheck(history).run(target())
    assert r.status is CheckStatus.OK and r.layer == "" and r.labels == {}
    assert "fullest / 23.2%" in r.summary
    assert r.metrics["used_pct:/"] == pytest.approx(23.2, abs=0.01)
    assert "used_pct:/dev" not in r.metrics  # devtmpfs is not a disk
    assert r.evidence[-1].source == "df -PT @ fake-host"


async def test_disk_full_names_the_worst_mount(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    serve(commands={DF: sample("df_PT_full.txt")})
    r = await DiskCheck(history).run(target())
    assert r.status is CheckStatus.CRITICAL and r.layer == "disk"
    assert r.labels == {"mount": "/"}  # the alert dedups on the worst mount
    assert r.summary.startswith("/ 97.7% space used (430.9 MiB free of 19.6 GiB)")
    assert "also /var/lib/my data 94%" in r.summary
    assert [e.source for e in r.evidence[:2]] == ["mount /", "mount /var/lib/my data"]
    assert not any("snap" in k for k in r.metrics)  # squashfs images are always 100 %: ignored


async def test_disk_thresholds_and_mount_selection_from_labels(serve: Any, sample: Sample,
                                                               history: MemoryHistory) -> None:
    serve(commands={DF: sample("df_PT_full.txt")})
    r = await DiskCheck(history).run(target(disk_ignore="/,/var/lib/*"))
    assert r.status is CheckStatus.OK and "fullest /data 70.0%" in r.summary
    r = await DiskCheck(history).run(target(disk_mounts="/data", disk_warn="60", disk_crit="69"))
    assert (r.status, r.labels) == (CheckStatus.CRITICAL, {"mount": "/data"})
    r = await DiskCheck(history).run(target(disk_crit="lots"))
    assert r.status is CheckStatus.UNKNOWN and r.layer == "config" and "disk_crit" in r.summary


async def test_disk_falls_back_to_plain_df(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    busybox = failed(DF, 1, "df: unrecognized option: T\nBusyBox v1.36.1 multi-call binary.\n")
    fake = serve(commands={DF: busybox, ("df", "-P"): sample("df_busybox.txt")})
    r = await DiskCheck(history).run(target())
    assert r.status is CheckStatus.OK and fake.ran == [DF, ("df", "-P")]


async def test_disk_partial_df_failure_still_judges(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    """df exits 1 when one mount (a stale NFS) fails, but the others are still worth judging."""
    partial = CommandResult(DF, 1, sample("df_PT_full.txt"), "df: /mnt/nfs: Stale file handle\n", "fake-host")
    serve(commands={DF: partial})
    r = await DiskCheck(history).run(target())
    assert r.status is CheckStatus.CRITICAL and "Stale file handle" in r.evidence[-1].detail


async def test_disk_without_df_is_unknown(serve: Any, history: MemoryHistory) -> None:
    serve()
    r = await DiskCheck(history).run(target())
    assert r.status is CheckStatus.UNKNOWN and r.layer == "host" and "`df` is not available" in r.summary


def df_line(mount: str, total_kib: int, used_kib: int) -> str:
    return (f"Filesystem Type 1024-blocks Used Available Capacity Mounted on\n"
            f"/dev/sdb1 xfs {total_kib} {used_kib} {total_kib - used_kib} 0% {mount}\n")


async def test_time_to_full_escalates_a_filling_disk(serve: Any, history: MemoryHistory) -> None:
    """70 % used, +10 GiB/h for two hours, 30 GiB left: full in ~3 h, under the 4 h critical forecast."""
    total = 100 * GIB // 1024
    now = time.time()
    t = target()
    for hours_ago, used_gib in ((2, 50), (1, 60)):
        history.observe(DiskCheck.name, t.name, now - hours_ago * 3600, {"used:/data": used_gib * GIB})
    serve(commands={DF: df_line("/data", total, 70 * GIB // 1024)})
    r = await DiskCheck(history).run(t)
    assert r.status is CheckStatus.CRITICAL and r.labels == {"mount": "/data"}
    assert r.metrics["hours_to_full:/data"] == pytest.approx(3.0, rel=0.01)
    assert "full in ~3.0 h at +10.0 GiB/h" in r.summary
    assert "trend over 3 samples" in r.evidence[0].detail
    assert history._samples[(DiskCheck.name, t.name)][-1][1]["used:/data"] == 70 * GIB  # next run's history


async def test_time_to_full_on_an_emptyish_disk_is_reported_not_paged(serve: Any, history: MemoryHistory) -> None:
    total = 100 * GIB // 1024
    now = time.time()
    t = target()
    for hours_ago, used_gib in ((2, 10), (1, 20)):
        history.observe(DiskCheck.name, t.name, now - hours_ago * 3600, {"used:/data": used_gib * GIB})
    serve(commands={DF: df_line("/data", total, 30 * GIB // 1024)})
    r = await DiskCheck(history).run(t)
    assert r.status is CheckStatus.OK and "/data full in ~7.0 h at this rate" in r.summary
    r = await DiskCheck(history).run(target(disk_ttf_min_pct="0"))  # the operator wants forecasts on any disk
    assert (r.status, r.labels) == (CheckStatus.WARNING, {"mount": "/data"})


async def test_cleanup_resets_the_trend(serve: Any, history: MemoryHistory) -> None:
    total = 100 * GIB // 1024
    now = time.time()
    t = target()
    for hours_ago, used_gib in ((3, 60), (2, 80), (1, 60)):  # 80 → 60: someone cleaned up
        history.observe(DiskCheck.name, t.name, now - hours_ago * 3600, {"used:/data": used_gib * GIB})
    serve(commands={DF: df_line("/data", total, 61 * GIB // 1024)})
    r = await DiskCheck(history).run(t)
    assert "hours_to_full:/data" not in r.metrics  # two points since the cleanup: not enough to forecast


async def test_inodes(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    serve(commands={("df", "-PTi"): sample("df_PTi.txt")})
    r = await InodesCheck(history).run(target())
    assert r.status is CheckStatus.OK and r.metrics["used:/"] == 444272
    serve(commands={("df", "-PTi"): sample("df_PTi.txt")})
    r = await InodesCheck(history).run(target(inodes_warn="1", inodes_crit="2"))
    assert r.status is CheckStatus.CRITICAL and r.labels == {"mount": "/"}
    assert "444,272 inodes used" in r.evidence[0].detail


# --- memory, load, fds ----------------------------------------------------------------------------

def meminfo(sample: Sample, available_kib: int | None = None, swap: tuple[int, int] | None = None) -> str:
    text = sample("meminfo.txt")
    if available_kib is not None:
        text = text.replace("MemAvailable:   23433400 kB", f"MemAvailable:   {available_kib} kB")
    if swap is not None:
        text = text.replace("SwapTotal:             0 kB", f"SwapTotal:  {swap[0]} kB")
        text = text.replace("SwapFree:              0 kB", f"SwapFree:   {swap[1]} kB")
    return text


async def test_memory(serve: Any, sample: Sample) -> None:
    serve(files={"/proc/meminfo": meminfo(sample)})
    r = await MemoryCheck().run(target())
    assert r.status is CheckStatus.OK and "no swap" in r.summary
    assert r.metrics["available_pct"] == pytest.approx(94.93, abs=0.01)
    serve(files={"/proc/meminfo": meminfo(sample, available_kib=1_000_000)})
    r = await MemoryCheck().run(target())
    assert (r.status, r.layer) == (CheckStatus.CRITICAL, "host") and r.summary.startswith("4.0% memory available")
    serve(files={"/proc/meminfo": meminfo(sample, swap=(2_000_000, 300_000))})
    r = await MemoryCheck().run(target())
    assert r.status is CheckStatus.CRITICAL and "swap 85% used" in r.summary
    r = await MemoryCheck().run(target(swap_used_crit="95"))
    assert r.status is CheckStatus.WARNING


async def test_load_per_core(serve: Any, sample: Sample) -> None:
    serve(files={"/proc/loadavg": sample("loadavg.txt")}, commands={("nproc",): "2\n"})
    r = await LoadCheck().run(target())
    assert r.status is CheckStatus.OK and r.metrics["load_per_core"] == pytest.approx(1.405)
    serve(files={"/proc/loadavg": "8.00 7.00 5.00 9/300 1234\n"}, commands={("nproc",): "2\n"})
    assert (await LoadCheck().run(target())).status is CheckStatus.CRITICAL
    serve(files={"/proc/loadavg": "9.00 1.00 0.50 9/300 1234\n"}, commands={("nproc",): "2\n"})
    assert (await LoadCheck().run(target())).status is CheckStatus.OK  # a burst, not sustained
    serve(files={"/proc/loadavg": "8.00 7.00 5.00 9/300 1234\n"})
    r = await LoadCheck().run(target())
    assert r.status is CheckStatus.UNKNOWN and "`nproc` is not available" in r.summary


async def test_unexpected_output_is_unknown(serve: Any) -> None:
    serve(files={"/proc/loadavg": "<html>proxy error</html>\n"}, commands={("nproc",): "2\n"})
    r = await LoadCheck().run(target())
    assert (r.status, r.layer) == (CheckStatus.UNKNOWN, "host") and "unexpected output" in r.summary


async def test_fds(serve: Any, sample: Sample) -> None:
    serve(files={"/proc/sys/fs/file-nr": sample("file-nr.txt")})
    r = await FdsCheck().run(target())
    assert r.status is CheckStatus.OK and r.summary == "1,704 of 2,466,170 file handles in use (0.07%)"
    serve(files={"/proc/sys/fs/file-nr": "950\t0\t1000\n"})
    assert (await FdsCheck().run(target())).status is CheckStatus.CRITICAL


# --- oom ----------------------------------------------------------------------------------------

def vmstat(sample: Sample, kills: int) -> str:
    return sample("vmstat.txt").replace("oom_kill 0", f"oom_kill {kills}")


async def test_oom_recent_kills_from_dmesg(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    serve(files={"/proc/vmstat": vmstat(sample, 2), "/proc/uptime": "7200.00 100.00\n"},
          commands={("dmesg",): sample("dmesg_oom.txt")})
    r = await OomCheck(history).run(target())
    assert (r.status, r.layer) == (CheckStatus.WARNING, "host")
    assert r.summary == "2 OOM kill(s) in the last 60 min: python3 (pid 2211), java (pid 3377)"
    assert "Killed process 3377 (java)" in r.evidence[1].detail
    r = await OomCheck(history).run(target(oom_crit="2"))
    assert r.status is CheckStatus.CRITICAL


async def test_oom_old_kills_are_a_baseline(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    serve(files={"/proc/vmstat": vmstat(sample, 2), "/proc/uptime": "90000.00 100.00\n"},
          commands={("dmesg",): sample("dmesg_oom.txt")})
    r = await OomCheck(history).run(target())
    assert r.status is CheckStatus.OK and "2 since boot (baseline" in r.summary


async def test_oom_new_since_last_check_without_dmesg(serve: Any, sample: Sample, history: MemoryHistory) -> None:
    refused = failed(("dmesg",), 1, "dmesg: read kernel buffer failed: Operation not permitted\n")
    serve(files={"/proc/vmstat": vmstat(sample, 1), "/proc/uptime": "90000 1\n"}, commands={("dmesg",): refused})
    assert (await OomCheck(history).run(target())).status is CheckStatus.OK
    serve(files={"/proc/vmstat": vmstat(sample, 3), "/proc/uptime": "90060 1\n"}, commands={("dmesg",): refused})
    r = await OomCheck(history).run(target())
    assert r.status is CheckStatus.WARNING and r.summary == "2 new OOM kill(s) since the last check"
    serve(files={"/proc/vmstat": vmstat(sample, 1), "/proc/uptime": "60 1\n"}, commands={("dmesg",): refused})
    r = await OomCheck(history).run(target())  # counter went down: rebooted, and 1 kill since
    assert r.metrics["new_oom_kills"] == 1 and r.status is CheckStatus.WARNING


async def test_oom_from_journal_and_unknown_without_sources(serve: Any, sample: Sample,
                                                            history: MemoryHistory) -> None:
    journal = ("journalctl", "-k", "-q", "--no-pager", "-o", "short-monotonic", "-n", "5000")
    serve(files={"/proc/vmstat": "nr_free_pages 1\n", "/proc/uptime": "6000 1\n"},
          commands={journal: sample("journal_oom.txt")})
    r = await OomCheck(history).run(target())
    assert r.status is CheckStatus.WARNING and "python3 (pid 2211)" in r.summary
    serve(files={"/proc/vmstat": "nr_free_pages 1\n", "/proc/uptime": "6000 1\n"})
    r = await OomCheck(history).run(target())
    assert r.status is CheckStatus.UNKNOWN and "no oom_kill counter" in r.summary


# --- clock --------------------------------------------------------------------------------------

def date(value: str) -> CommandResult:
    return CommandResult(("date", "+%s.%N"), 0, value, "", "fake-host", 1000.0, 1000.01)


async def test_clock_skew(serve: Any) -> None:
    serve(commands={("date", "+%s.%N"): date("1000.005000000\n")})
    r = await ClockCheck().run(target())
    assert r.status is CheckStatus.OK and abs(r.metrics["skew_seconds"]) < 0.01
    assert "judged on the offset only" in r.evidence[-1].detail
    serve(commands={("date", "+%s.%N"): date("1003.005000000\n")})
    r = await ClockCheck().run(target())
    assert (r.status, r.layer) == (CheckStatus.CRITICAL, "host") and r.summary.startswith("clock +3.000s")
    serve(commands={("date", "+%s.%N"): date("1001\n")})  # BusyBox: no fraction, one more second of doubt
    assert (await ClockCheck().run(target())).status is CheckStatus.OK


async def test_clock_ntp_status(serve: Any, sample: Sample) -> None:
    serve(commands={("date", "+%s.%N"): date("1000.005\n"),
                    ("chronyc", "-n", "tracking"): sample("chronyc_tracking.txt")})
    r = await ClockCheck().run(target())
    assert r.status is CheckStatus.OK and r.metrics["ntp_offset_seconds"] == pytest.approx(-0.000012345)
    unsynced = sample("chronyc_tracking.txt").replace("Leap status     : Normal", "Leap status     : Not synchronised")
    serve(commands={("date", "+%s.%N"): date("1000.005\n"), ("chronyc", "-n", "tracking"): unsynced})
    assert (await ClockCheck().run(target())).status is CheckStatus.WARNING
    serve(commands={("date", "+%s.%N"): date("1000.005\n"),
                    ("timedatectl", "show", "--property=NTPSynchronized", "--value"): "no\n"})
    r = await ClockCheck().run(target())
    assert r.status is CheckStatus.WARNING and "NTP synchronised: no" in r.summary


# --- systemd and ports ----------------------------------------------------------------------------

SYSTEMCTL = ("systemctl", "--failed", "--no-legend", "--plain", "--no-pager")


async def test_systemd(serve: Any, sample: Sample) -> None:
    serve(commands={SYSTEMCTL: sample("systemctl_failed.txt")})
    r = await SystemdCheck().run(target())
    assert (r.status, r.layer) == (CheckStatus.WARNING, "process")
    assert r.summary == "2 failed systemd unit(s): nginx.service, logrotate.service"
    assert (await SystemdCheck().run(target(systemd_critical="nginx*"))).status is CheckStatus.CRITICAL
    assert (await SystemdCheck().run(target(systemd_ignore="*.service"))).status is CheckStatus.OK
    serve(commands={SYSTEMCTL: ""})
    assert (await SystemdCheck().run(target())).summary == "no failed systemd units"


async def test_systemd_not_booted_is_not_applicable_and_missing_is_unknown(serve: Any, sample: Sample) -> None:
    """A container says "not booted with systemd": no units can fail, so the check does not apply (issue 16)
    and must not make every ``inspect --kind host`` exit 2; a systemctl that cannot be run stays UNKNOWN."""
    serve(commands={SYSTEMCTL: failed(SYSTEMCTL, 1, sample("systemctl_no_systemd.txt"))})
    r = await SystemdCheck().run(target())
    assert r.status is CheckStatus.OK and r.summary.startswith("not applicable")
    assert r.metrics["applicable"] == 0.0 and "System has not been booted with systemd" in r.evidence[0].detail
    serve(commands={SYSTEMCTL: failed(SYSTEMCTL, 1, "Failed to connect to bus: Permission denied")})
    assert (await SystemdCheck().run(target())).status is CheckStatus.UNKNOWN
    serve()
    r = await SystemdCheck().run(target())
    assert r.status is CheckStatus.UNKNOWN and "`systemctl` is not available" in r.summary
    r = await SystemdCheck().run(target(systemd="false"))
    assert r.status is CheckStatus.OK and "not checked" in r.summary


async def test_ports(serve: Any, sample: Sample) -> None:
    serve(commands={("ss", "-ltn"): sample("ss_ltn_server.txt")})
    r = await PortsCheck().run(target(expect_ports="22,80"))
    assert r.status is CheckStatus.OK and "22: listening on 0.0.0.0, ::" in r.evidence[0].detail
    r = await PortsCheck().run(target(expect_ports="22 443"))
    assert (r.status, r.layer, r.labels) == (CheckStatus.CRITICAL, "process", {"port": "443"})
    assert r.summary == "not listening: 443 (expected 22, 443)"
    r = await PortsCheck().run(target())
    assert r.status is CheckStatus.OK and r.summary.endswith("4 listening")
    assert r.evidence[0].detail == "listening: 22, 53, 80, 8080"
    r = await PortsCheck().run(target(expect_ports="ssh"))
    assert (r.status, r.layer) == (CheckStatus.UNKNOWN, "config")


async def test_ports_without_ss_read_proc(serve: Any, sample: Sample) -> None:
    serve(files={"/proc/net/tcp": sample("proc_net_tcp.txt"), "/proc/net/tcp6": sample("proc_net_tcp6.txt")})
    r = await PortsCheck().run(target(expect_ports="5432,6379,9999"))
    assert r.summary == "not listening: 9999 (expected 5432, 6379, 9999)"
    assert r.evidence[0].source == "/proc/net/tcp{,6} @ fake-host"


# --- access failures, collectors, registration ------------------------------------------------------

@pytest.mark.parametrize("check", host_plugin.CHECKS)
async def test_unreachable_configuration_is_unknown_for_every_check(check: type[base.HostCheck]) -> None:
    no_key = Target(name="far", kind="host", address="203.0.113.9")
    r = await check().run(no_key)
    assert (r.status, r.layer) == (CheckStatus.UNKNOWN, "config")
    assert "no SSH key for target far" in r.summary


async def test_collectors(serve: Any, sample: Sample) -> None:
    serve(files={"/etc/os-release": sample("os-release.txt"), "/proc/sys/kernel/osrelease": "6.1.0-18-amd64\n",
                 "/proc/sys/kernel/hostname": "web-1\n", "/proc/meminfo": sample("meminfo.txt"),
                 "/proc/uptime": sample("uptime.txt")},
          commands={("nproc",): "2\n", DF: sample("df_PT.txt"),
                    ("ps", "-eo", "pid,user,pcpu,pmem,rss,comm", "--sort=-pcpu"): sample("ps.txt")})
    facts = (await collectors.FactsCollector().collect(target())).data
    assert facts["os"] == "Debian GNU/Linux 12 (bookworm)" and facts["cpus"] == 2
    assert facts["memory"]["total"] == 24684084 * 1024 and facts["uptime_seconds"] == 1474.71
    assert "/" in {m["mount"] for m in facts["mounts"]}
    top = (await collectors.TopCollector().collect(target())).data
    assert top["by_cpu"][0]["name"] == "java" and top["by_memory"][0]["name"] == "pytest"


async def test_collector_reports_unreachable_as_data() -> None:
    snap = await collectors.FactsCollector().collect(Target(name="far", kind="host", address="203.0.113.9"))
    assert snap.data["ok"] is False and snap.data["layer"] == "config"


def test_register_adds_checks_and_collectors_and_keeps_the_action() -> None:
    reg = Registry()
    host_plugin.register(reg)
    assert "host.clean_logs" in reg.actions
    assert {c.name for c in reg.checks_for("host")} == {
        "host.disk", "host.inodes", "host.memory", "host.load", "host.oom", "host.clock", "host.fds",
        "host.systemd", "host.ports", "host.process_fds", "host.readonly"}
    assert reg.collectors.names() == ["host.facts", "host.top"]
    runbooks = Path(host_plugin.__file__).parent / "runbooks"
    for check in host_plugin.CHECKS:
        assert check.runbook and (runbooks / check.runbook.split("/", 1)[1]).is_file(), check.name
        assert check.__doc__
