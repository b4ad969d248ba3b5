"""The demo set-up: plan → approve → apply on a newcomer's own machine, touching only fake files.

Remediation is default-deny, and rightly so; but then nobody can see the approval flow without
writing policies and allow-lists for a real directory first. ``demo: true`` (the repository's
``steadyops.demo.yaml``, or ``STEADYOPS_DEMO=true``) adds exactly one safe place to act on:

* a target named ``demo`` — this machine (kind ``host``), labelled ``env: demo`` and, with the
  label the host cleanup reads its ``paths`` from (``log_paths``), ``<dir>``;
* ``<data_dir>/demo/logs``, created with a few fake, ten-day-old ``*.log`` files (and refilled on
  the next start once the demo has cleaned them);
* an allow-list entry letting the action ``磁盘清理`` proposes on a host (``host.clean_logs``) touch
  that directory and nothing else, and a four-eyes policy for it (two of alice, bob, carol) placed
  *before* the operator's own rules.

Which action and label those are is the registry's answer (:meth:`Registry.cleanup_for`, what the
host integration registered), so the core names neither. Nothing else changes: every other action
and target stays under the configured policies.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from steadyops.config.settings import AllowRule, PolicyRule, Settings
from steadyops.core.errors import ConfigError
from steadyops.core.inventory import Inventory, Target
from steadyops.plugins import Cleanup, Registry

TARGET = "demo"
KIND = "host"  #: the demo target is this machine
APPROVERS = ("alice", "bob", "carol")
#: the fake logs: name, lines; old enough for clean_logs' default older_than_days (7)
_FILES = {"app-2026-11-01.log": 4000, "app-2026-11-02.log": 6000, "worker-2026-11-01.log": 3000}
_AGE_DAYS = 10


def logs_dir(settings: Settings) -> Path:
    """Absolute: the allow-list and the plan compare real paths."""
    return (settings.data_dir / "demo" / "logs").resolve()


def seed(settings: Settings) -> Path:
    """Create the demo directory with fake old logs unless it still holds some."""
    root = logs_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.glob("*.log")):
        return root
    old = time.time() - _AGE_DAYS * 86400
    for name, lines in _FILES.items():
        path = root / name
        with path.open("w", encoding="utf-8") as fh:
            for i in range(lines):
                fh.write(f"2026-11-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z INFO demo request {i} served in 12ms\n")
        os.utime(path, (old, old))
    return root


def cleanup(registry: Registry) -> Cleanup:
    """What ``磁盘清理`` proposes on a host, as registered; the demo acts through it and nothing else."""
    found = registry.cleanup_for(KIND)
    if found is None or found.label_for("paths") is None:
        raise ConfigError(f"demo: true needs a cleanup for {KIND} targets that takes paths from a label (the host "
                          "integration's), and none is registered")
    return found


def target(settings: Settings, registry: Registry) -> Target:
    label = cleanup(registry).label_for("paths")
    assert label is not None  # cleanup() made sure
    return Target(name=TARGET, kind=KIND, address="127.0.0.1", labels={"env": "demo", label: str(logs_dir(settings))})


def apply(settings: Settings, registry: Registry) -> Settings:
    """``settings`` with the demo's allow-list entry and policy first; seeds the fake logs."""
    action = cleanup(registry).action
    root = seed(settings)
    remediation = settings.remediation.model_copy(update={
        "allow": [AllowRule(targets=[TARGET], actions=[action], paths=[str(root)]), *settings.remediation.allow],
        "policies": [PolicyRule(actions=[action], targets=[TARGET], mode="two", approvers=list(APPROVERS)),
                     *settings.remediation.policies],
    })
    return settings.model_copy(update={"remediation": remediation})


def add_target(inventory: Inventory, settings: Settings, registry: Registry) -> Inventory:
    if settings.demo and TARGET not in inventory.targets:
        inventory.add(target(settings, registry))
    return inventory
