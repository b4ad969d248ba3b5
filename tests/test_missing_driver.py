"""Drivers are extras: with one missing, its integration is skipped and says which extra to install.

Run in a fresh interpreter with the driver blocked (``sys.modules[name] = None`` makes its import
fail), since in this process the drivers and the integrations are already imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = r"""
import asyncio, json, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # as if not installed
from steadyops.core.inventory import Target
from steadyops.plugins import load_plugins
reg = load_plugins(entry_points_too=False)
kind = sys.argv[2]
names = [n for n in reg.checks.names() if reg.checks.get(n).target_kind == kind]
result = asyncio.run(reg.checks.get(names[0])().run(Target(name="t", kind=kind, address="127.0.0.1")))
print(json.dumps({"missing": reg.missing, "checks": names, "status": str(result.status),
                  "summary": result.summary, "host_checks": len(reg.checks_for("host"))}))
"""


@pytest.mark.parametrize(("blocked", "kind", "extra"), [
    ("pymysql", "mysql", "mysql"),
    ("psycopg", "postgres", "postgres"),
    ("redis", "redis", "redis"),
])
def test_a_missing_driver_names_its_extra(blocked: str, kind: str, extra: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, blocked, kind], capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(out["missing"]) == [f"steadyops.integrations.{kind}"]
    assert f"pip install 'steadyops[{extra}]'" in out["missing"][f"steadyops.integrations.{kind}"]
    # every target of the kind gets one stand-in check that says the same, instead of no checks at all
    assert out["checks"] == [f"{kind}.driver"]
    assert out["status"] == "unknown" and f"steadyops[{extra}]" in out["summary"]
    assert out["host_checks"] > 5  # the rest of the platform loads as usual


def test_a_postgresql_store_without_the_driver_names_the_extra() -> None:
    probe = ("import sys; sys.modules['psycopg'] = None\n"
             "from steadyops.core.errors import MissingExtra\nfrom steadyops.store.db import make_engine\n"
             "try:\n    make_engine('postgresql://u@127.0.0.1:1/x')\nexcept MissingExtra as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert "pip install 'steadyops[postgres]'" in done.stdout, done.stderr


SSH_PROBE = r"""
import asyncio, json, pathlib, sys
sys.modules["asyncssh"] = None  # as if the extra 'ssh' were not installed
from steadyops.app import build_app
from steadyops.config.settings import Settings
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.execution.shell import shell_for
from steadyops.plugins import load_plugins

registry = load_plugins(entry_points_too=False)
app = build_app(Settings(data_dir=pathlib.Path(sys.argv[1])), registry=registry)  # starts without SSH
remote = Target(name="far", kind="host", address="10.0.0.5", credentials="file:/nonexistent/key")
here = Target(name="here", kind="host", address="127.0.0.1")
gpu = Target(name="gpu-far", kind="gpu", address="10.0.0.6", credentials="file:/nonexistent/key")
far = asyncio.run(registry.checks.get("host.memory")().run(remote))
near = asyncio.run(registry.checks.get("host.memory")().run(here))
node = asyncio.run(registry.checks.get("gpu.memory")().run(gpu))
try:
    shell_for(remote, logins=app.ssh)
    refused = ""
except Refused as exc:
    refused = str(exc)
app.close()
from typer.testing import CliRunner
from steadyops.cli import app as cli
listed = CliRunner().invoke(cli, ["--lang", "en", "plugins"]).output
print(json.dumps({"listed": listed, "far": [str(far.status), far.layer, far.summary],
                  "near": [str(near.status), near.summary], "gpu": [str(node.status), node.layer, node.summary],
                  "refused": refused,
                  "loaded": "steadyops.integrations.host" in registry.loaded, "missing": registry.missing}))
"""


def test_ssh_is_an_extra_a_remote_target_names_it_and_this_host_is_inspected(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SSH_PROBE, str(tmp_path / "data")], capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    extra = "pip install 'steadyops[ssh]'"
    assert out["far"][:2] == ["unknown", "config"] and extra in out["far"][2]  # said, never "ok", never a crash
    assert out["gpu"][:2] == ["unknown", "config"] and extra in out["gpu"][2]
    assert out["near"][0] in ("ok", "warning", "critical") and "ssh" not in out["near"][1].lower()
    assert extra in out["refused"]  # an action on a remote host is refused before it plans anything
    assert out["loaded"] and out["missing"] == {}  # the host integration itself needs no SSH
    assert f"SSH to remote hosts is not installed (this machine is inspected as usual): SSH to a remote host needs " \
           f"the optional driver 'asyncssh': {extra}" in out["listed"]  # steadyops plugins says it once
