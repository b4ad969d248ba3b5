from __future__ import annotations

from steadyops.config.settings import RouteConfig
from steadyops.pipeline.route import Route


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
