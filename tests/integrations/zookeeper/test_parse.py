"""Parsers on answers captured from a real ZooKeeper 3.8 (leader, follower, standalone, AdminServer)."""

from __future__ import annotations

import errno
import json
import socket
from pathlib import Path

import pytest

from steadyops.core.inventory import split_address
from steadyops.integrations.zookeeper.client import DEFAULT_PORT, Outcome, _connect_failure, classify
from steadyops.integrations.zookeeper.parse import (
    admin_conf,
    admin_cons,
    admin_stats,
    number,
    parse_conf,
    parse_cons,
    parse_envi,
    parse_member,
    parse_mntr,
    parse_srvr,
    typed,
)

DATA = Path(__file__).parent / "data"


def sample(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_mntr_of_a_leader_has_state_followers_and_fds() -> None:
    stats = parse_mntr(sample("mntr_leader.txt"))
    assert stats["zk_server_state"] == "leader"
    assert number(stats, "zk_synced_followers") == 2
    assert number(stats, "zk_quorum_size") == 3
    assert number(stats, "zk_max_file_descriptor_count") == 20000
    assert number(stats, "zk_avg_latency") is not None
    assert number(stats, "zk_version") is None  # text, not a number
    assert number(stats, "no_such_key") is None
    assert stats["zk_version"].startswith("3.8.0")


def test_mntr_of_a_follower_and_a_standalone() -> None:
    assert parse_mntr(sample("mntr_follower.txt"))["zk_server_state"] == "follower"
    standalone = parse_mntr(sample("mntr_standalone.txt"))
    assert standalone["zk_server_state"] == "standalone"
    assert "zk_synced_followers" not in standalone


def test_srvr_maps_onto_mntr_keys() -> None:
    stats = parse_srvr(sample("srvr_leader.txt"))
    assert stats["zk_server_state"] == "leader"
    assert (stats["zk_min_latency"], stats["zk_avg_latency"], stats["zk_max_latency"]) == ("2", "6.5", "11")
    assert stats["zk_outstanding_requests"] == "0"
    assert stats["zk_znode_count"] == "5"
    assert stats["zk_zxid"] == "0x100000002"
    assert parse_srvr(sample("srvr_standalone.txt"))["zk_server_state"] == "standalone"


def test_stat_skips_the_clients_block() -> None:
    stats = parse_srvr(sample("stat_leader.txt"))
    assert stats["zk_server_state"] == "leader"
    assert stats["zk_num_alive_connections"] == "3"
    assert not any("127.0.0.1" in v for v in stats.values())


def test_not_serving_and_refusal_parse_to_nothing_but_classify() -> None:
    assert parse_srvr(sample("srvr_not_serving.txt")) == {}
    assert classify(sample("srvr_not_serving.txt")) is Outcome.NOT_SERVING
    assert classify(sample("mntr_not_whitelisted.txt")) is Outcome.NOT_WHITELISTED
    assert classify("") is Outcome.EMPTY
    assert classify("imok") is Outcome.OK


def test_conf_of_an_ensemble_member_lists_the_membership_with_client_ports() -> None:
    conf = parse_conf(sample("conf_ensemble.txt"))
    assert conf.data_dir and conf.data_dir.endswith("node1/data/version-2")
    assert conf.data_log_dir == conf.data_dir
    assert conf.values["serverId"] == "1"
    assert [m.myid for m in conf.members] == [1, 2, 3]
    first = conf.members[0]
    assert first.role == "participant" and first.voting
    assert first.client_address(2181) == f"127.0.0.1:{conf.values['clientPort']}"


def test_conf_of_a_standalone_has_no_members() -> None:
    conf = parse_conf(sample("conf_standalone.txt"))
    assert conf.members == []
    assert conf.values["dataDirSize"] == "457"


@pytest.mark.parametrize(("line", "expected"), [
    ("zk1:2888:3888", ("zk1", None, 2181, "participant")),
    ("zk1:2888:3888:observer;2182", ("zk1", None, 2182, "observer")),
    ("zk1:2888:3888;0.0.0.0:2181", ("zk1", "0.0.0.0", 2181, "participant")),
    ("zk1:2888:3888|zk1b:2888:3888;10.0.0.1:2181", ("zk1", "10.0.0.1", 2181, "participant")),
    ("[::1]:2888:3888:participant;[::1]:2181", ("::1", "::1", 2181, "participant")),
])
def test_member_line_variants(line: str, expected: tuple[str, str | None, int, str]) -> None:
    member = parse_member("server.7", line)
    assert member is not None
    host, client_host, port, role = expected
    assert (member.myid, member.host, member.client_host, member.role) == (7, host, client_host, role)
    # a wildcard or missing client host means "the server's own host"
    assert member.client_address(2181).endswith(f":{port}")
    assert "0.0.0.0" not in member.client_address(2181)


def test_bad_member_lines_are_skipped() -> None:
    assert parse_member("server.x", "zk1:2888:3888") is None
    assert parse_member("server.1", "zk1") is None


def test_cons_lines() -> None:
    conns = parse_cons(sample("cons_leader.txt"))
    assert len(conns) == 3
    session = conns[1]
    assert session["address"] == "127.0.0.1:45520"
    assert session["sid"] == "0x300001004f70000" and session["lop"] == "SESS"
    assert conns[0]["queued"] == "0" and "sid" not in conns[0]


def test_admin_monitor_server_stats_configuration_connections() -> None:
    monitor = admin_stats(json.loads(sample("admin_monitor.json")))
    assert monitor["zk_server_state"] == "leader"
    assert number(monitor, "zk_open_file_descriptor_count") is not None
    assert "zk_command" not in monitor and "zk_error" not in monitor
    stats = admin_stats(json.loads(sample("admin_server_stats.json")))
    assert stats["zk_server_state"] == "leader"
    assert stats["zk_avg_latency"] == "6.5" and stats["zk_znode_count"] == "5"
    assert stats["zk_num_alive_connections"] == "2"
    conf = admin_conf(json.loads(sample("admin_configuration.json")))
    assert conf.data_dir and conf.data_dir.endswith("node3/data/version-2")
    assert conf.values["clientPort"] == "48593"
    conns = admin_cons(json.loads(sample("admin_connections.json")))
    assert [c["remote_socket_address"] for c in conns] == ["127.0.0.1:45520", "127.0.0.1:45524"]


def test_admin_read_only_flag_becomes_the_mode() -> None:
    data = json.loads(sample("admin_server_stats.json"))
    data["read_only"] = True
    assert admin_stats(data)["zk_server_state"] == "read-only"


def test_envi_and_typed() -> None:
    env = parse_envi(sample("envi.txt"))
    assert env["java.version"].startswith("17")
    values = typed({"a": "1", "b": "2.5", "c": "x"})
    assert values == {"a": 1, "b": 2.5, "c": "x"}


@pytest.mark.parametrize(("address", "expected"), [
    ("10.0.0.5:2182", ("10.0.0.5", 2182)), ("zk1", ("zk1", 2181)), ("[::1]:2181", ("::1", 2181)),
    ("[::1]", ("::1", 2181)),
])
def test_split_address(address: str, expected: tuple[str, int]) -> None:
    assert split_address(address, DEFAULT_PORT) == expected


@pytest.mark.parametrize(("exc", "outcome"), [
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), Outcome.REFUSED),
    (OSError(errno.EHOSTUNREACH, "No route to host"), Outcome.HOST_UNREACHABLE),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), Outcome.UNREACHABLE),
    (OSError(errno.ETIMEDOUT, "timed out"), Outcome.TIMEOUT),
    (socket.gaierror(-2, "Name or service not known"), Outcome.UNREACHABLE),
    (OSError(errno.EPERM, "odd"), Outcome.ERROR),
])
def test_connect_failures_map_to_outcomes(exc: OSError, outcome: Outcome) -> None:
    assert _connect_failure(exc)[0] is outcome
