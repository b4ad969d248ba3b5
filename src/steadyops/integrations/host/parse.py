"""Parsers for what a Linux host says about itself: ``df``, ``/proc`` files, ``ss``, ``systemctl`` …

They are pure functions over text so the local and the SSH path share them — a local check runs
the same ``df -PT`` or reads the same ``/proc/meminfo`` as a remote one — and so every parser is
tested against real captured output instead of trusting two code paths to agree. Each parser is
lenient about what it does not need (extra columns, blank lines, a missing header) and strict
about what it does: a line it cannot read is skipped, never guessed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True)
class FsUsage:
    """One mounted filesystem, in bytes (``df -P``) or in inodes (``df -Pi``)."""

    filesystem: str
    fstype: str  # "" when df was run without -T
    total: int
    used: int
    avail: int
    mount: str

    @property
    def used_pct(self) -> float:
        """As ``df`` computes Capacity: used / (used + available), so root-reserved blocks count as full."""
        denom = self.used + self.avail
        return round(self.used / denom * 100, 2) if denom else 0.0


def parse_df(text: str) -> list[FsUsage]:
    """``df -P``/``df -PT`` (bytes) or ``df -Pi``/``df -PTi`` (inodes), with or without the Type column.

    The block size comes from the header (``1024-blocks``, ``512-blocks``); inode output has no
    block size. The mount point is the rest of the line, so a mount point with spaces survives.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("Filesystem"):
        return []
    header = lines[0].split()
    typed = len(header) > 1 and header[1] == "Type"
    unit = 1
    size_col = header[2 if typed else 1] if len(header) > 2 else ""
    m = re.match(r"(\d+)-blocks", size_col)
    if m:
        unit = int(m.group(1))
    out: list[FsUsage] = []
    for line in lines[1:]:
        parts = line.split(maxsplit=6 if typed else 5)
        if len(parts) < (7 if typed else 6):
            continue
        fs, rest = parts[0], parts[1:]
        fstype = rest.pop(0) if typed else ""
        try:
            total, used, avail = (int(v) for v in rest[:3])
        except ValueError:  # "-" for filesystems without inode counts
            continue
        out.append(FsUsage(fs, fstype, total * unit, used * unit, avail * unit, rest[4]))
    return out


def parse_meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` as bytes (``kB`` values ×1024; counts such as HugePages_Total kept as is)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if not fields or not fields[0].isdigit():
            continue
        out[key.strip()] = int(fields[0]) * (KIB if len(fields) > 1 and fields[1] == "kB" else 1)
    return out


def mem_available(info: dict[str, int]) -> int:
    """MemAvailable, or its pre-3.14-kernel estimate (free + buffers + page cache)."""
    if "MemAvailable" in info:
        return info["MemAvailable"]
    return info.get("MemFree", 0) + info.get("Buffers", 0) + info.get("Cached", 0)


@dataclass(frozen=True)
class LoadAvg:
    load1: float
    load5: float
    load15: float
    running: int
    threads: int


def parse_loadavg(text: str) -> LoadAvg:
    """``/proc/loadavg``: ``0.52 0.58 0.59 2/310 12345``."""
    fields = text.split()
    if len(fields) < 4 or "/" not in fields[3]:
        raise ValueError(f"unexpected /proc/loadavg: {text[:80]!r}")
    running, threads = fields[3].split("/", 1)
    return LoadAvg(float(fields[0]), float(fields[1]), float(fields[2]), int(running), int(threads))


def parse_int(text: str) -> int:
    """The first integer of a one-value answer (``nproc``, ``/proc/sys/...``)."""
    m = re.search(r"-?\d+", text)
    if m is None:
        raise ValueError(f"no number in {text[:80]!r}")
    return int(m.group(0))


def parse_file_nr(text: str) -> tuple[int, int, int]:
    """``/proc/sys/fs/file-nr``: allocated handles, allocated-but-unused (always 0 since 2.6), maximum."""
    fields = text.split()
    if len(fields) < 3:
        raise ValueError(f"unexpected file-nr: {text[:80]!r}")
    return int(fields[0]), int(fields[1]), int(fields[2])


def parse_keyvalues(text: str) -> dict[str, int]:
    """``/proc/vmstat``-style ``name value`` lines."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def parse_uptime(text: str) -> float:
    """``/proc/uptime``: seconds since boot (first field)."""
    return float(text.split()[0])


@dataclass(frozen=True)
class OomKill:
    """One OOM-killer victim from the kernel log; ``at`` is seconds since boot."""

    at: float
    pid: int
    comm: str
    line: str


_OOM_RE = re.compile(r"\[\s*(\d+(?:\.\d+)?)\].*?Killed process (\d+) \(([^)]*)\)")


def parse_oom_kills(text: str) -> list[OomKill]:
    """``Killed process N (comm)`` lines from ``dmesg`` or ``journalctl -k -o short-monotonic``.

    Both the global OOM killer (``Out of memory: Killed process``) and a cgroup limit (``Memory
    cgroup out of memory: Killed process``) produce the same phrase.
    """
    kills = []
    for line in text.splitlines():
        m = _OOM_RE.search(line)
        if m:
            kills.append(OomKill(float(m.group(1)), int(m.group(2)), m.group(3), line.strip()))
    return kills


def _split_hostport(value: str) -> tuple[str, int] | None:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "*", int(port)


def parse_ss_listen(text: str) -> set[tuple[str, int]]:
    """``ss -ltn``: the (address, port) pairs in state LISTEN; the header line is skipped."""
    out: set[tuple[str, int]] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] != "LISTEN":
            continue
        hp = _split_hostport(fields[3])
        if hp:
            out.add((hp[0].split("%", 1)[0], hp[1]))
    return out


def _hex_addr(value: str) -> str:
    raw = bytes.fromhex(value)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # IPv6: four 32-bit words, each in host (little-endian) byte order
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def parse_proc_net_tcp(text: str) -> set[tuple[str, int]]:
    """``/proc/net/tcp`` or ``tcp6``: listening sockets (state ``0A``), for hosts without ``ss``."""
    out: set[tuple[str, int]] = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A":
            continue
        addr, _, port = fields[1].partition(":")
        try:
            out.add((_hex_addr(addr), int(port, 16)))
        except ValueError:
            continue
    return out


@dataclass(frozen=True)
class FailedUnit:
    unit: str
    load: str
    active: str
    sub: str
    description: str


def parse_systemctl_failed(text: str) -> list[FailedUnit]:
    """``systemctl --failed --no-legend --plain``: ``unit load active sub description``.

    A leading ``●`` (or ``*`` on a non-UTF-8 terminal), printed without ``--plain``, is dropped.
    """
    units = []
    for line in text.splitlines():
        fields = line.strip().lstrip("●*").split(None, 4)
        if len(fields) >= 4 and "." in fields[0]:
            units.append(FailedUnit(fields[0], fields[1], fields[2], fields[3],
                                    fields[4] if len(fields) > 4 else ""))
    return units


def parse_epoch(text: str) -> float:
    """``date +%s.%N``; BusyBox prints a literal ``N`` for ``%N``, which just costs the fraction."""
    m = re.match(r"\s*(\d+)(?:\.(\d+))?", text)
    if m is None:
        raise ValueError(f"not an epoch timestamp: {text[:80]!r}")
    return float(f"{m.group(1)}.{m.group(2) or 0}")


@dataclass(frozen=True)
class ChronyTracking:
    """``chronyc -n tracking``: offset of the system clock from NTP (+ = fast) and the leap status."""

    offset: float
    leap_status: str
    reference: str


def parse_chrony_tracking(text: str) -> ChronyTracking:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    m = re.match(r"([\d.]+) seconds (fast|slow)", values.get("System time", ""))
    if m is None:
        raise ValueError("no 'System time' line in chronyc tracking output")
    offset = float(m.group(1)) * (1 if m.group(2) == "fast" else -1)
    return ChronyTracking(offset, values.get("Leap status", ""), values.get("Reference ID", ""))


def parse_os_release(text: str) -> dict[str, str]:
    """``/etc/os-release``: ``KEY=value`` / ``KEY="value"`` lines."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("\"'")
    return out


def parse_ps(text: str) -> list[dict[str, str | float | int]]:
    """``ps -eo pid,user,pcpu,pmem,rss,comm``: one dict per process (rss in bytes)."""
    rows: list[dict[str, str | float | int]] = []
    for line in text.splitlines()[1:]:
        fields = line.split(None, 5)
        if len(fields) < 6 or not fields[0].isdigit():
            continue
        try:
            rows.append({"pid": int(fields[0]), "user": fields[1], "cpu_percent": float(fields[2]),
                         "mem_percent": float(fields[3]), "rss": int(fields[4]) * KIB, "name": fields[5]})
        except ValueError:
            continue
    return rows


def parse_port_list(value: str) -> list[int]:
    """The ``expect_ports`` label: ``"22,80 443"`` → ``[22, 80, 443]``; anything not a port raises."""
    ports = []
    for item in re.split(r"[,\s]+", value.strip()):
        if not item:
            continue
        port = int(item)
        if not 0 < port < 65536:
            raise ValueError(f"{item} is not a TCP port")
        ports.append(port)
    return ports
