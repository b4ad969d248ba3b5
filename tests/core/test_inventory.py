"""Addresses: the one reading every integration connects with, and the lenient one alerts are matched by."""

from __future__ import annotations

import pytest

from steadyops.core.inventory import Inventory, Target, _host_part, split_address


@pytest.mark.parametrize(("address", "expected"), [
    ("db", ("db", 5432)),
    ("db:6432", ("db", 6432)),
    ("  db.internal:6432  ", ("db.internal", 6432)),
    ("10.0.0.5", ("10.0.0.5", 5432)),
    ("10.0.0.5:2181", ("10.0.0.5", 2181)),
    ("[::1]:7000", ("::1", 7000)),
    ("[::1]", ("::1", 5432)),
    ("[fd00::5]:", ("fd00::5", 5432)),
    ("::1", ("::1", 5432)),  # a bare IPv6 address has no port
    ("fe80::1%eth0", ("fe80::1%eth0", 5432)),
    ("db:", ("db", 5432)),  # an empty port is the default port
    ("", ("127.0.0.1", 5432)),  # no address: this machine
    ("   ", ("127.0.0.1", 5432)),
    (":6432", ("127.0.0.1", 6432)),
    ("[]:6432", ("127.0.0.1", 6432)),
    ("db:65535", ("db", 65535)),
])
def test_split_address(address: str, expected: tuple[str, int]) -> None:
    assert split_address(address, 5432) == expected


def test_split_address_default_host() -> None:
    assert split_address("", 2181, default_host="localhost") == ("localhost", 2181)
    assert split_address(":2182", 2181, default_host="zk") == ("zk", 2182)
    assert split_address("zk1", 2181, default_host="zk") == ("zk1", 2181)


@pytest.mark.parametrize("address", ["db:abc", "db:0", "db:65536", "db:-1", "db:22a", "db:²", "[::1", "[::1]x",
                                     "[::1]7000"])
def test_split_address_refuses_what_it_cannot_connect_to(address: str) -> None:
    with pytest.raises(ValueError, match="address"):
        split_address(address, 5432)


@pytest.mark.parametrize(("value", "host"), [
    ("db", "db"), ("db:6432", "db"), ("[::1]:9100", "::1"), ("[::1]", "::1"), ("::1", "::1"),
    ("", ""),  # stays empty: an address-less target must not claim 127.0.0.1
    ("db:abc", "db"), ("[::1", "[::1"),  # lenient: a label value is matched, never refused
])
def test_host_part_agrees_with_split_address_and_never_raises(value: str, host: str) -> None:
    assert _host_part(value) == host
    try:
        expected = split_address(value, 1)[0]
    except ValueError:
        return
    if value:
        assert _host_part(value) == expected


def test_resolve_by_name_address_and_host() -> None:
    inv = Inventory([Target(name="zk1", kind="zookeeper", address="10.0.0.5:2181"),
                     Target(name="v6", kind="redis", address="[fd00::7]:6379"),
                     Target(name="bare", kind="host")])
    assert inv.resolve("zk1") == "zk1"
    assert inv.resolve("10.0.0.5:2181") == "zk1"
    assert inv.resolve("10.0.0.5:9100") == "zk1"  # same machine, another port (an exporter)
    assert inv.resolve("10.0.0.5") == "zk1"
    assert inv.resolve("[fd00::7]:9121") == "v6"
    assert inv.resolve("fd00::7") == "v6"
    assert inv.resolve("127.0.0.1") is None  # the address-less target is not indexed as localhost
    assert inv.resolve("") is None


def _chain() -> Inventory:
    """db <- api <- web <- edge -> cache: a chain with a branch, for the walking tests."""
    return Inventory([Target(name="db", kind="x", address="10.0.0.1"),
                      Target(name="api", kind="x", address="10.0.0.2", depends_on=["db"]),
                      Target(name="web", kind="x", address="10.0.0.3", depends_on=["api"]),
                      Target(name="cache", kind="x", address="10.0.0.4"),
                      Target(name="edge", kind="x", address="10.0.0.5", depends_on=["web", "cache"])])


def test_within_is_distance_walked_once() -> None:
    """Convergence asks ``within`` (one walk from the alert's target) what it asked ``distance`` per
    pair: the same hops, the same None beyond ``max_hops``, and a name outside the inventory is
    only itself."""
    inv = _chain()
    names = [*inv.targets, "raw-host:9100"]
    for hops in (0, 1, 2, 3):
        for a in names:
            assert inv.within(a, hops) == {b: d for b in names if (d := inv.distance(a, b, hops)) is not None}
    assert inv.within("db", 2) == {"db": 0, "api": 1, "web": 2}


def test_around_is_within_for_many_names_at_once() -> None:
    """A diagnosis asks for the neighbourhood of all of an incident's targets together (``around``):
    the union of ``within`` over them, for any subset, and names outside the inventory stay in."""
    inv = _chain()
    names = [*inv.targets, "raw-host:9100"]
    subsets = [[], ["db"], ["db", "cache"], ["web", "raw-host:9100"], names]
    for hops in (0, 1, 2, 3):
        for subset in subsets:
            assert inv.around(subset, hops) == {b for a in subset for b in inv.within(a, hops)}
