"""gpu.drain and canary.rollback through the real executor: plan (no side effects) → approve →
apply (atomic edit with backup, allow-listed commands) → rollback; refusals audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steadyops.contracts.actions import ActionContext
from steadyops.core.errors import Refused
from steadyops.core.models import ApprovalDecision, Plan
from steadyops.integrations.gpu.actions import DrainGpu
from steadyops.integrations.inference.actions import RollbackCanary
from steadyops.plugins import Registry

POOL = "# serving pool (nginx upstream include)\nserver 10.0.0.5:8001;\nserver 10.0.0.5:8002;\nserver 10.0.0.6:8001;\n"


@pytest.fixture
def drain_app(make_app: Any, tmp_path: Path) -> Any:
    serving = tmp_path / "serving"
    serving.mkdir()
    (serving / "pool.conf").write_text(POOL)
    (serving / "routes.json").write_text(json.dumps({"route": "chat", "weights": {"v1": 90, "v2": 10}}))
    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        "targets:\n"
        f"  - {{name: gpu-node-5, kind: gpu, address: 127.0.0.1, labels: {{pool_file: '{serving}/pool.conf',"
        " replicas: '3=10.0.0.5:8002;4=10.0.0.5:8001', reload_command: 'true'}}\n"
        f"  - {{name: chat-gw, kind: inference, address: 127.0.0.1:9, labels: {{routing_file: '{serving}/routes.json',"
        " reload_command: 'true'}}\n")
    reg = Registry()
    reg.add_action(DrainGpu)
    reg.add_action(RollbackCanary)
    app = make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["gpu.drain", "canary.rollback"], "mode": "one", "approvers": ["alice"]}],
        "allow": [{"actions": ["gpu.drain", "canary.rollback"], "paths": [str(serving)], "commands": [["true"]]}]})
    app.serving = serving
    return app


async def test_drain_gpu_takes_its_replica_out_of_the_pool(drain_app: Any) -> None:
    app = drain_app
    pool = app.serving / "pool.conf"
    run = await app.executor.propose("gpu.drain", "gpu-node-5", {"gpu": "3"}, "dave")
    assert pool.read_text() == POOL  # planning changed nothing
    assert run.plan["params"]["remove_lines"] == ["server 10.0.0.5:8002;"]
    assert [s["kind"] for s in run.plan["steps"]] == ["edit", "command"]
    app.executor.decide(run.id, "alice", ApprovalDecision.APPROVE, "Xid 79 on GPU 3")
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert pool.read_text() == POOL.replace("server 10.0.0.5:8002;\n", "")
    assert Path(outcome.details["backup"]).read_text() == POOL
    assert app.audit.verify().ok


async def test_drain_refuses_a_changed_file_and_an_empty_pool(drain_app: Any) -> None:
    app = drain_app
    pool = app.serving / "pool.conf"
    run = await app.executor.propose("gpu.drain", "gpu-node-5", {"gpu": "3"}, "dave")
    app.executor.decide(run.id, "alice", ApprovalDecision.APPROVE, "ok")
    pool.write_text(POOL + "server 10.0.0.7:8001;\n")  # someone edited it after the plan
    with pytest.raises(Refused, match="plan changed since it was approved"):
        await app.executor.apply(run.id, "dave")
    assert pool.read_text() == POOL + "server 10.0.0.7:8001;\n"
    with pytest.raises(Refused, match="not allow-listed"):
        await app.executor.propose("gpu.drain", "gpu-node-5", {"gpu": "3", "reload_command": ["rm", "-rf", "/"]},
                                   "dave")
    pool.write_text("server 10.0.0.5:8001;\n")
    with pytest.raises(Refused, match="would empty"):
        await app.executor.propose("gpu.drain", "gpu-node-5", {"gpu": "4"}, "dave")


async def test_canary_rollback_moves_the_weight_back(drain_app: Any) -> None:
    app = drain_app
    routes = app.serving / "routes.json"
    run = await app.executor.propose("canary.rollback", "chat-gw", {"canary": "v2", "baseline": "v1"}, "dave")
    assert json.loads(routes.read_text())["weights"] == {"v1": 90, "v2": 10}
    app.executor.decide(run.id, "alice", ApprovalDecision.APPROVE, "canary failed its gate")
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    doc = json.loads(routes.read_text())
    assert doc == {"route": "chat", "weights": {"v1": 100, "v2": 0}}
    ctx = ActionContext(backup_dir=str(app.serving), allowed_paths=[str(app.serving)], allowed_commands=[["true"]])
    undo = await RollbackCanary().rollback(Plan.model_validate(run.plan), outcome, ctx)
    assert undo.ok and json.loads(routes.read_text())["weights"] == {"v1": 90, "v2": 10}


async def test_drain_cordons_the_kubernetes_node_only_when_allow_listed(make_app: Any, tmp_path: Path) -> None:
    """No cluster here, so the cordon is shown at plan level: ``kubectl cordon`` is a planned command
    (and ``uncordon`` its rollback) only when the target names its node, and refused unless allow-listed."""
    inv = tmp_path / "inventory.yaml"
    inv.write_text("targets:\n  - {name: gpu-node-7, kind: gpu, address: 127.0.0.1, labels: {k8s_node: node-7}}\n")
    reg = Registry()
    reg.add_action(DrainGpu)
    policy = {"policies": [{"actions": ["gpu.drain"], "mode": "one", "approvers": ["alice"]}]}
    bare = make_app(registry=reg, inventory=inv, remediation=policy)
    with pytest.raises(Refused, match="not allow-listed"):
        await bare.executor.propose("gpu.drain", "gpu-node-7", {"gpu": "0"}, "dave")
    app = make_app(registry=reg, inventory=inv, remediation={
        **policy, "allow": [{"actions": ["gpu.drain"], "commands": [["kubectl", "cordon", "node-7"],
                                                                  ["kubectl", "uncordon", "node-7"]]}]})
    run = await app.executor.propose("gpu.drain", "gpu-node-7", {"gpu": "0"}, "dave")
    assert [(s["kind"], s["command"]) for s in run.plan["steps"]] == [("command", ["kubectl", "cordon", "node-7"])]
    assert [s["command"] for s in run.plan["rollback"]] == [["kubectl", "uncordon", "node-7"]]
