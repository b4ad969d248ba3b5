"""Contract tests parametrised over the registry: every built-in plugin is shaped like the contract."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from steadyops.contracts.actions import Action, ActionContext
from steadyops.core.inventory import Target
from steadyops.core.models import Plan
from steadyops.integrations.zookeeper.actions import SNAP_TRAILER
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


@pytest.mark.parametrize("name", REGISTRY.collectors.names())
def test_collector_is_named_for_its_kind(name: str) -> None:
    cls = REGISTRY.collectors.get(name)
    assert name.startswith(f"{cls.target_kind}.") or cls.target_kind == "*", name


# -- plan() has no side effects ---------------------------------------------------------------------
# Every registered action is planned against a local target whose files live under tmp_path, with
# its backup directory there too, and the whole tree is checksummed before and after: content, size,
# mode and mtime of every file, and the set of names. A new action must add a scenario here (or say
# why it cannot be planned locally), which the first test enforces.

def _local(kind: str, **labels: str) -> Target:
    return Target(name=f"{kind}-1", kind=kind, address="127.0.0.1", labels={"local": "true", **labels})


def _old(path: Path, text: str = "x" * 4096, days: float = 30) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    at = time.time() - days * 86400
    os.utime(path, (at, at))
    return path


def _clean_logs(root: Path) -> tuple[Target, dict[str, Any]]:
    for i in range(3):
        _old(root / "logs" / f"app-{i}.log")
    (root / "logs" / "current.log").write_text("still written\n")
    return _local("host"), {"paths": [str(root / "logs")], "older_than_days": 7}


def _zk_purge(root: Path) -> tuple[Target, dict[str, Any]]:
    data = root / "zk" / "version-2"
    for i in range(1, 7):
        snap = _old(data / f"snapshot.{i * 0x100:x}", days=10 - i)
        snap.write_bytes(b"x" * 64 + SNAP_TRAILER)  # sealed, as ZooKeeper finishes a snapshot
        _old(data / f"log.{i * 0x100 - 0x10:x}", days=10 - i)
    return _local("zookeeper"), {"keep": 3, "data_dir": str(root / "zk"), "data_log_dir": str(root / "zk")}


def _canary(root: Path) -> tuple[Target, dict[str, Any]]:
    routing = root / "gateway" / "routing.json"
    routing.parent.mkdir(parents=True)
    routing.write_text(json.dumps({"weights": {"v1": 90, "v2": 10}}))
    return _local("inference"), {"routing_file": str(routing), "canary": "v2", "baseline": "v1"}


def _gpu_drain(root: Path) -> tuple[Target, dict[str, Any]]:
    pool = root / "lb" / "pool.conf"
    pool.parent.mkdir(parents=True)
    pool.write_text("server 127.0.0.1:8001;\nserver 127.0.0.1:8002;\n")
    return _local("gpu", replicas="0=127.0.0.1:8001,1=127.0.0.1:8002"), {"gpu": "0", "pool_file": str(pool)}


def _inference_restart(root: Path) -> tuple[Target, dict[str, Any]]:
    return _local("inference"), {"command": ["touch", str(root / "restarted")]}


def _service_restart(root: Path) -> tuple[Target, dict[str, Any]]:
    return _local("host"), {"stop": ["touch", str(root / "stopped")], "start": ["touch", str(root / "started")]}


PLANNABLE: dict[str, Callable[[Path], tuple[Target, dict[str, Any]]]] = {
    "host.clean_logs": _clean_logs,
    "zookeeper.purge": _zk_purge,
    "canary.rollback": _canary,
    "gpu.drain": _gpu_drain,
    "inference.restart": _inference_restart,
    "service.restart": _service_restart,
}


def _tree(root: Path) -> dict[str, tuple[str, int, int, int]]:
    """Every file and directory under root: sha256, size, mode, mtime (ns)."""
    out: dict[str, tuple[str, int, int, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(root))] = (digest, st.st_size, st.st_mode, st.st_mtime_ns)
    return out


def test_every_action_has_a_plan_scenario() -> None:
    assert set(REGISTRY.actions.names()) <= set(PLANNABLE), "add a scenario to PLANNABLE for the new action"


async def _assert_plan_changes_nothing(cls: type[Action], target: Target, raw: dict[str, Any], root: Path) -> None:
    backups = root / "backups"
    backups.mkdir(exist_ok=True)
    ctx = ActionContext(backup_dir=str(backups), allowed_paths=[str(root)],
                        allowed_commands=[["touch", str(root / n)] for n in ("restarted", "stopped", "started")])
    before = _tree(root)
    plan = await cls().plan(target, cls.Params.model_validate(raw), ctx)
    assert plan.steps, f"{cls.name}: the scenario should plan real work, not an empty plan"
    assert _tree(root) == before, f"{cls.name}.plan() changed files under the target"


@pytest.mark.parametrize("name", sorted(PLANNABLE))
async def test_plan_changes_nothing(name: str, tmp_path: Path) -> None:
    target, raw = PLANNABLE[name](tmp_path)
    await _assert_plan_changes_nothing(REGISTRY.actions.get(name), target, raw, tmp_path)


async def test_a_plan_that_writes_is_caught(tmp_path: Path) -> None:
    """The checksum sees a plan that only touches a file's time, not just one that deletes."""
    base = REGISTRY.actions.get("host.clean_logs")

    class Sloppy(base):  # type: ignore[valid-type,misc]
        async def plan(self, target: Target, params: Any, ctx: ActionContext) -> Plan:
            os.utime(tmp_path / "logs" / "app-0.log")  # "just checking the file"
            return await super().plan(target, params, ctx)

    target, raw = _clean_logs(tmp_path)
    with pytest.raises(AssertionError, match="changed files"):
        await _assert_plan_changes_nothing(Sloppy, target, raw, tmp_path)
