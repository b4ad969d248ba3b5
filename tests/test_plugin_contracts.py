"""Contract tests parametrised over the registry: every built-in plugin is shaped like the contract."""

from __future__ import annotations

from importlib import resources

import pytest

from steadyops.plugins import load_plugins

REGISTRY = load_plugins(entry_points_too=False)
RUNBOOKS = resources.files("steadyops") / "integrations"


@pytest.mark.parametrize("name", REGISTRY.checks.names())
def test_check_contract(name: str) -> None:
    cls = REGISTRY.checks.get(name)
    assert (cls.__doc__ or "").strip(), f"{name} has no docstring"
    assert name.split(".", 1)[0] == cls.target_kind or cls.target_kind == "*", name
    assert cls.timeout > 0 and cls.interval > 0
    if cls.runbook:
        base = cls.runbook.removesuffix(".en.md").removesuffix(".zh.md").removesuffix(".md")
        kind, _, stem = base.partition("/")
        for lang in ("en", "zh"):
            path = RUNBOOKS / kind / "runbooks" / f"{stem}.{lang}.md"
            assert path.is_file(), f"{name}: runbook {path} missing"


@pytest.mark.parametrize("name", REGISTRY.collectors.names())
def test_collector_contract(name: str) -> None:
    cls = REGISTRY.collectors.get(name)
    assert cls.description.strip(), name
    assert name not in REGISTRY.checks, f"collector {name} collides with a check (agent tool names)"


@pytest.mark.parametrize("name", REGISTRY.actions.names())
def test_action_contract(name: str) -> None:
    cls = REGISTRY.actions.get(name)
    assert (cls.__doc__ or "").strip(), name
    assert cls.Params.model_json_schema()["type"] == "object"
    for check in (*cls.verify_checks, *cls.remedies):
        assert check in REGISTRY.checks, f"{name} refers to unknown check {check}"


def test_every_kind_has_checks() -> None:
    kinds = {REGISTRY.checks.get(n).target_kind for n in REGISTRY.checks.names()}
    assert {"host", "zookeeper", "redis", "nginx", "mysql", "postgres", "rabbitmq", "prometheus",
            "http_probe"} <= kinds
