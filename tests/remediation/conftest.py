from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from steadyops.integrations.host.actions import CleanLogs
from steadyops.plugins import Registry


def make_logs(root: Path, n: int = 5, age_days: float = 10, size: int = 4096) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = []
    old = time.time() - age_days * 86400
    for i in range(n):
        p = root / f"app-{i}.log"
        p.write_bytes(os.urandom(size))
        os.utime(p, (old, old))
        files.append(p)
    fresh = root / "current.log"
    fresh.write_text("still being written\n")
    return files


@pytest.fixture
def remediation_app(make_app: Any, tmp_path: Path) -> Any:
    """An App whose inventory is one local host, with logs under an allow-listed directory."""
    inv = tmp_path / "inventory.yaml"
    inv.write_text("targets:\n  - {name: web-1, kind: host, address: 127.0.0.1, labels: {env: prod}}\n"
                   "  - {name: dev-1, kind: host, address: 127.0.0.2, labels: {env: dev, local: 'true'}}\n")
    logs = tmp_path / "logs"
    make_logs(logs)
    reg = Registry()
    reg.add_action(CleanLogs)
    app = make_app(
        registry=reg,
        inventory=inv,
        remediation={
            "policies": [
                {"actions": ["host.clean_logs"], "target_labels": {"env": "dev"}, "mode": "auto"},
                {"actions": ["host.clean_logs"], "target_labels": {"env": "prod"}, "mode": "two",
                 "approvers": ["alice", "bob", "carol"]},
            ],
            "allow": [{"actions": ["host.clean_logs"], "paths": [str(logs)]}],
            "approval_expiry": "30m",
        },
    )
    app.test_logs = logs
    return app
