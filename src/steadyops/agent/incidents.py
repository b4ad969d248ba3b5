"""With an LLM configured, new incidents are investigated within a budget and the explanation is
stored beside the deterministic diagnosis. Model-proposed actions are recorded as proposals on the
diagnosis only; planning one is a human's decision (``steadyops act plan``)."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from steadyops.agent.ask import Investigator
from steadyops.agent.context import AgentApp
from steadyops.agent.loop import Budget
from steadyops.core.i18n import normalise
from steadyops.pipeline import diagnose
from steadyops.store.tables import DiagnosisRow, IncidentRow

log = logging.getLogger(__name__)


async def investigate_new(app: AgentApp, limit: int = 1, budget: Budget | None = None) -> int:
    if app.settings.llm is None:
        return 0
    with app.store.transaction() as s:
        todo = []
        for inc in s.scalars(select(IncidentRow).where(IncidentRow.status != "resolved")
                             .order_by(IncidentRow.id.desc()).limit(20)):
            det = diagnose.latest(s, inc.id, "deterministic")
            done = s.scalars(select(DiagnosisRow.id).where(DiagnosisRow.incident_id == inc.id,
                                                           DiagnosisRow.mode == "llm")).first()
            if det is not None and done is None:
                todo.append((inc.id, inc.title, det.summary, det.candidates[:5], det.evidence[:20]))
            if len(todo) >= limit:
                break
    lang = normalise(app.settings.lang)
    investigator = Investigator(app, budget=budget or Budget(max_steps=5, max_tokens=30_000), propose=False)
    for incident_id, title, summary, candidates, evidence in todo:
        question = (f"调查事件 #{incident_id}：{title}。根因是什么？" if lang == "zh"
                    else f"Investigate incident #{incident_id}: {title}. What is the root cause?")
        context = json.dumps({"deterministic_summary": summary, "candidates": candidates, "evidence": evidence},
                             ensure_ascii=False)
        answer = await investigator.ask(question, lang, context=context, fallback=False)
        now = app.clock.now()
        with app.store.transaction() as s:
            s.add(DiagnosisRow(
                incident_id=incident_id, created_at=now, mode="llm",
                summary=answer.text or ("; ".join(answer.errors) or "no answer"),
                confidence=0.0 if answer.inconclusive else 0.5, inconclusive=answer.inconclusive,
                candidates=[], evidence=[{"id": e.id, "tool": e.tool, "source": e.source, "excerpt": e.excerpt}
                                         for e in answer.evidence],
                runbooks=[], actions=[{"action": p.action, "target": p.target, "because": [p.reason],
                                       "status": "proposed (not executed)"} for p in answer.proposals]))
    return len(todo)
