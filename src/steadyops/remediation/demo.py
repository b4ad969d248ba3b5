"""The demo set-up: plan → approve → apply on a newcomer's own machine, touching only fake files.

Remediation is default-deny, and rightly so; but then nobody can see the approval flow without
writing policies and allow-lists for a real directory first. ``demo: true`` (the repository's
``steadyops.demo.yaml``, or ``STEADYOPS_DEMO=true``) adds exactly one safe place to act on:

* a target named ``demo`` — the local host, labelled ``env: demo`` and ``log_paths: <dir>``;
* ``<data_dir>/demo/logs``, created with a few fake, ten-day-old ``*.log`` files (and refilled on
  the next start once the demo has cleaned them);
* an allow-list entry letting ``host.clean_logs`` touch that directory and nothing else, and a
  four-eyes policy for it (two of alice, bob, carol) placed *before* the operator's own rules.

Nothing else changes: every other action and target stays under the configured policies.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from steadyops.config.settings import AllowRule, PolicyRule, Settings
from steadyops.core.inventory import Inventory, Target

TARGET = "demo"
ACTION = "host.clean_logs"
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


def target(settings: Settings) -> Target:
    return Target(name=TARGET, kind="host", address="127.0.0.1",
                  labels={"env": "demo", "log_paths": str(logs_dir(settings))})


def apply(settings: Settings) -> Settings:
    """``settings`` with the demo's allow-list entry and policy first; seeds the fake logs."""
    root = seed(settings)
    remediation = settings.remediation.model_copy(update={
        "allow": [AllowRule(targets=[TARGET], actions=[ACTION], paths=[str(root)]), *settings.remediation.allow],
        "policies": [PolicyRule(actions=[ACTION], targets=[TARGET], mode="two", approvers=list(APPROVERS)),
                     *settings.remediation.policies],
    })
    return settings.model_copy(update={"remediation": remediation})


def add_target(inventory: Inventory, settings: Settings) -> Inventory:
    if settings.demo and TARGET not in inventory.targets:
        inventory.add(target(settings))
    return inventory
