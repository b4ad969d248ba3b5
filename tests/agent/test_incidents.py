"""With an LLM configured, a new incident gets an explanation stored beside the deterministic one."""

from __future__ import annotations

from typing import Any

from steadyops.agent.incidents import investigate_new
from steadyops.core.clock import FakeClock
from steadyops.pipeline import diagnose
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import ActionRunRow
from steadyops.testing.scripted_llm import ScriptedLLM, Turn
from tests.harness.timeline import alert, push, run_until


async def test_llm_explanation_stored_beside_deterministic(make_app: Any, fake_clock: FakeClock) -> None:
    turns = [Turn(tool_calls=[("incident_history", {})]),
             Turn(content="The disk on web-1 filled up [E1].",
                  tool_calls=[("propose_action", {"action": "host.clean_logs", "target": "web-1", "reason": "[E1]"})])]
    with ScriptedLLM(turns) as llm:
        app = make_app(llm={"base_url": llm.base_url, "model": "qwen", "max_retries": 0},
                       route={"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
        push(app, fake_clock, alert(fake_clock, "DiskFull", instance="web-1", severity="critical"))
        await run_until(app, fake_clock, 1.0)  # the pipeline's hook (wired by build_app) investigates it
        assert await investigate_new(app) == 0  # once per incident
    with app.store.transaction() as s:
        (inc,) = incidents_repo.list_rows(s)
        det = diagnose.latest(s, inc.id, "deterministic")
        llm_d = diagnose.latest(s, inc.id, "llm")
        assert det is not None and llm_d is not None
        assert "disk on web-1" in llm_d.summary and llm_d.evidence[0]["tool"] == "incident_history"
        assert llm_d.actions[0]["status"] == "proposed (not executed)"
        assert s.query(ActionRunRow).count() == 0


def test_the_composition_root_wires_the_investigation_hook(make_app: Any) -> None:
    """``build_app`` wires the hook (not the API or ``serve``), and only when a model is configured."""
    assert make_app().pipeline.investigate is None
    app = make_app(llm={"base_url": "http://127.0.0.1:9", "model": "qwen", "max_retries": 0})
    assert app.pipeline.investigate is not None
