from __future__ import annotations

import random

from steadyops.config.settings import RouteConfig
from steadyops.pipeline.route import Route
from steadyops.store.alerts import SHARDS, shard_of


def tree() -> Route:
    cfg = RouteConfig.model_validate({
        "receiver": "default", "group_by": ["alertname"], "group_wait": 30, "group_interval": 300,
        "repeat_interval": 3600,
        "routes": [
            {"matchers": ['team="db"'], "receiver": "dba", "group_by": ["alertname", "cluster"], "continue": True,
             "routes": [{"matchers": ["severity=critical"], "receiver": "dba-page", "group_wait": "5s"}]},
            {"matchers": ['service=~"api|web"'], "receiver": "web"},
            {"matchers": ['team="db"'], "receiver": "db-audit", "group_by": ["..."]},
        ],
    })
    return Route.build(cfg)


def test_first_match_wins_and_children_inherit() -> None:
    root = tree()
    hits = root.match({"alertname": "Slow", "team": "db", "severity": "critical", "cluster": "c1"})
    assert [h.receiver for h in hits] == ["dba-page", "db-audit"]  # continue=True reaches the sibling
    page = hits[0]
    assert page.group_wait == 5.0 and page.group_interval == 300.0 and page.group_by == ["alertname", "cluster"]


def test_regex_is_anchored_and_fallback_is_root() -> None:
    root = tree()
    assert [h.receiver for h in root.match({"alertname": "x", "service": "api"})] == ["web"]
    assert [h.receiver for h in root.match({"alertname": "x", "service": "api2"})] == ["default"]


def test_group_key_is_stable_and_group_by_all() -> None:
    root = tree()
    audit = root.match({"alertname": "a", "team": "db"})[-1]
    k1 = audit.group_key({"alertname": "a", "team": "db", "x": "1"})
    k2 = audit.group_key({"x": "1", "team": "db", "alertname": "a"})
    assert k1 == k2
    assert audit.group_key({"alertname": "a", "team": "db", "x": "2"}) != k1
    assert root.group_key({"alertname": "a", "x": "1"}) == root.group_key({"alertname": "a", "x": "2"})


def test_shard_labels_are_what_every_node_groups_by() -> None:
    assert tree().shard_labels() == frozenset({"alertname"})  # "..." (db-audit) narrows nothing
    cfg = {"group_by": ["alertname", "cluster"], "routes": [{"matchers": ["team=db"], "group_by": ["cluster", "x"]}]}
    assert Route.build(RouteConfig.model_validate(cfg)).shard_labels() == frozenset({"cluster"})
    assert Route.build(RouteConfig.model_validate({"group_by": ["..."]})).shard_labels() is None
    # a node that groups everything it handles into one group: one shard for all
    cfg = {"group_by": ["alertname"], "routes": [{"matchers": ["team=db"], "group_by": []}]}
    assert Route.build(RouteConfig.model_validate(cfg)).shard_labels() == frozenset()


def test_every_alert_of_a_group_and_of_a_fingerprint_is_in_one_shard() -> None:
    """Random alerts through a tree with ``continue`` (one alert in several groups, keyed by different
    labels) and a ``...`` node: all members of each group share a shard, however the labels vary."""
    root = tree()
    by = root.shard_labels()
    assert by is not None
    names = tuple(sorted(by))
    rng = random.Random(13)
    shards_of_group: dict[str, set[int]] = {}
    seen = set()
    for _ in range(5000):
        labels = {"alertname": f"A{rng.randrange(200)}", "cluster": f"c{rng.randrange(5)}",
                  "instance": f"h{rng.randrange(300)}"}
        for name, values in (("team", ["db", "web"]), ("severity", ["critical", "warning"]),
                             ("service", ["api", "web", "batch"])):
            if rng.random() < 0.5:
                labels[name] = rng.choice(values)
        shard = shard_of(labels, names)
        assert shard == shard_of(dict(reversed(list(labels.items()))), names)  # one fingerprint, one shard
        seen.add(shard)
        for route in root.match(labels):
            shards_of_group.setdefault(route.group_key(labels), set()).add(shard)
    assert len(shards_of_group) > 100 and len(seen) > SHARDS * 3 // 4  # many groups, spread over the shards
    assert all(len(shards) == 1 for shards in shards_of_group.values())
    # every label (a tree grouping by "..." everywhere): a group is one label set, one fingerprint
    assert shard_of({"a": "1", "b": "2"}, None) == shard_of({"b": "2", "a": "1"}, None)
    assert shard_of({"a": "1"}, ()) == 0
