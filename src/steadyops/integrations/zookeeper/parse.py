"""Parse ZooKeeper's answers (four-letter words and AdminServer JSON) into one shape.

Everything numeric ends up in a flat ``mntr``-style dict (``zk_avg_latency`` …) whichever command
or channel produced it — ``mntr``, the always-whitelisted ``srvr``, or the AdminServer's
``monitor`` / ``server_stats`` — so a check reads one key and works on a server whose whitelist
only allows ``srvr`` (the default since 3.5.3). Parsers are pure and tolerant: an unknown line is
skipped, never fatal, because answers differ between versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SERVING_MODES = frozenset({"leader", "follower", "standalone", "observer"})
VOTING_MODES = frozenset({"leader", "follower", "standalone"})

_SRVR_KEYS: dict[str, str] = {
    "Zookeeper version": "zk_version", "Received": "zk_packets_received", "Sent": "zk_packets_sent",
    "Connections": "zk_num_alive_connections", "Outstanding": "zk_outstanding_requests", "Zxid": "zk_zxid",
    "Mode": "zk_server_state", "Node count": "zk_znode_count",
}
_CONS_RE = re.compile(r"^\s*/?(?P<addr>\S+?)\[(?P<interest>[^\]]*)\]\((?P<fields>.*)\)\s*$")


def parse_mntr(text: str) -> dict[str, str]:
    """``key<TAB>value`` lines."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("\t")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def parse_srvr(text: str) -> dict[str, str]:
    """``srvr`` (or ``stat``) as mntr keys: mode, latency min/avg/max, outstanding, node count …"""
    out: dict[str, str] = {}
    in_clients = False
    for line in text.splitlines():
        if line.startswith("Clients:"):
            in_clients = True
            continue
        if in_clients:
            if line.strip():
                continue
            in_clients = False
        name, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if name == "Latency min/avg/max":
            parts = value.split("/")
            if len(parts) == 3:
                out.update(zk_min_latency=parts[0], zk_avg_latency=parts[1], zk_max_latency=parts[2])
        elif name in _SRVR_KEYS:
            out[_SRVR_KEYS[name]] = value
    return out


def number(stats: dict[str, str], key: str) -> float | None:
    """A numeric mntr value, or None when absent or not a number."""
    try:
        return float(stats[key])
    except (KeyError, ValueError):
        return None


def admin_stats(data: dict[str, Any]) -> dict[str, str]:
    """AdminServer ``monitor`` or ``server_stats`` JSON as mntr keys."""
    out: dict[str, str] = {}
    if isinstance(data.get("server_stats"), dict):  # server_stats: the srvr equivalent
        inner: dict[str, Any] = data["server_stats"]
        for key in ("server_state", "outstanding_requests", "min_latency", "avg_latency", "max_latency",
                    "packets_sent", "packets_received", "num_alive_client_connections"):
            if key in inner:
                out[f"zk_{key}"] = str(inner[key])
        if "num_alive_client_connections" in inner:
            out["zk_num_alive_connections"] = str(inner["num_alive_client_connections"])
        if "node_count" in data:
            out["zk_znode_count"] = str(data["node_count"])
        if data.get("read_only"):
            out["zk_server_state"] = "read-only"
        return out
    for key, value in data.items():
        if key in ("command", "error") or isinstance(value, (dict, list)):
            continue
        out[f"zk_{key}"] = str(value)
    return out


@dataclass(frozen=True)
class Member:
    """One ``server.N`` line of the ensemble membership."""

    myid: int
    host: str
    quorum_port: int
    election_port: int
    role: str = "participant"
    client_host: str | None = None
    client_port: int | None = None

    @property
    def voting(self) -> bool:
        return self.role != "observer"

    def client_address(self, default_port: int) -> str:
        """Where clients (and 4lw) reach this member; a wildcard bind means the server's own host."""
        host = self.client_host if self.client_host not in (None, "", "0.0.0.0", "::", "[::]") else self.host
        port = self.client_port or default_port
        return f"[{host}]:{port}" if host and ":" in host else f"{host}:{port}"


@dataclass
class ZkConf:
    """``conf``: the settings that matter to a checker, and the membership when in an ensemble."""

    values: dict[str, str] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)

    @property
    def data_dir(self) -> str | None:
        return self.values.get("dataDir")

    @property
    def data_log_dir(self) -> str | None:
        return self.values.get("dataLogDir")


def _split_host_port(text: str) -> tuple[str, str]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest.lstrip(":")
    host, _, rest = text.partition(":")
    return host, rest


def parse_member(key: str, value: str) -> Member | None:
    """``server.1=host:2888:3888[:role][;[clienthost:]clientport]`` (3.6 multi-address: first one)."""
    try:
        myid = int(key.split(".", 1)[1])
    except (IndexError, ValueError):
        return None
    server, _, client = value.partition(";")
    server = server.split("|", 1)[0].strip()
    host, rest = _split_host_port(server)
    parts = rest.split(":")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    role = parts[2] if len(parts) > 2 and parts[2] else "participant"
    client_host: str | None = None
    client_port: int | None = None
    client = client.strip()
    if client:
        if client.isdigit():
            client_port = int(client)
        else:
            chost, cport = client.rsplit(":", 1) if not client.startswith("[") else _split_host_port(client)
            client_host = chost.strip("[]")
            client_port = int(cport) if cport.isdigit() else None
    return Member(myid, host, int(parts[0]), int(parts[1]), role, client_host, client_port)


def parse_conf(text: str) -> ZkConf:
    """``key=value`` lines; ``server.N`` lines (after ``membership:``) become :class:`Member`."""
    conf = ZkConf()
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key.startswith("server."):
            member = parse_member(key, value)
            if member is not None:
                conf.members.append(member)
        else:
            conf.values[key] = value
    return conf


_ADMIN_CONF_KEYS = {"client_port": "clientPort", "data_dir": "dataDir", "data_log_dir": "dataLogDir",
                    "tick_time": "tickTime", "max_client_cnxns": "maxClientCnxns", "server_id": "serverId",
                    "min_session_timeout": "minSessionTimeout", "max_session_timeout": "maxSessionTimeout"}


def admin_conf(data: dict[str, Any]) -> ZkConf:
    """AdminServer ``configuration`` JSON (snake_case keys) as a :class:`ZkConf`."""
    conf = ZkConf()
    for key, value in data.items():
        if key in _ADMIN_CONF_KEYS and value is not None:
            conf.values[_ADMIN_CONF_KEYS[key]] = str(value)
    return conf


def parse_cons(text: str) -> list[dict[str, str]]:
    """`` /127.0.0.1:34812[1](queued=0,recved=1,sent=0,sid=0x…,lop=PING,…)`` → dict per client."""
    out: list[dict[str, str]] = []
    for line in text.splitlines():
        m = _CONS_RE.match(line)
        if not m:
            continue
        conn = {"address": m.group("addr"), "interest": m.group("interest")}
        for item in m.group("fields").split(","):
            k, sep, v = item.partition("=")
            if sep:
                conn[k.strip()] = v.strip()
        out.append(conn)
    return out


def admin_cons(data: dict[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for key in ("connections", "secure_connections"):
        for conn in data.get(key) or []:
            if isinstance(conn, dict):
                out.append({k: str(v) for k, v in conn.items()})
    return out


def parse_envi(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def typed(stats: dict[str, str]) -> dict[str, float | str]:
    """Numbers as numbers (for snapshots handed to an agent or a chart), the rest as text."""
    out: dict[str, float | str] = {}
    for key, value in stats.items():
        try:
            out[key] = float(value) if "." in value else int(value)
        except ValueError:
            out[key] = value
    return out
