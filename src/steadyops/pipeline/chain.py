"""Evidence that shows the chain: symptom → what it depends on → the failing thing at the bottom.

An API that got slow, the model server behind it whose TTFT and errors jumped, and the GPU under
that server logging Xid 79 are three findings; the diagnosis ranks the GPU first (it explains the
others through ``depends_on``), and this evidence source says *how*: the dependency path from each
symptom target down to the deepest failing target, each hop with its worst failing check. It is a
headline, so the summary reads "… ; chain: chat-api (http_probe.latency) → llm-1 (inference.probe)
→ gpu-5 (gpu.xid: Xid 79 …)". Generic: it knows targets and checks, no vendor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.core.i18n import Lang
from steadyops.core.inventory import Inventory
from steadyops.core.models import CheckStatus
from steadyops.store import incident_targets
from steadyops.store.tables import AlertRow, CheckResultRow, IncidentRow

LOOKBACK = timedelta(minutes=15)
MAX_DEPTH = 4
_RANK = {CheckStatus.CRITICAL.value: 3, CheckStatus.WARNING.value: 2, CheckStatus.UNKNOWN.value: 1}


class ChainEvidence:
    """An :data:`~steadyops.pipeline.diagnose.EvidenceSource` for dependency chains."""

    def __init__(self, inventory: Inventory, lang: Lang = "en") -> None:
        self.inventory = inventory
        self.lang = lang

    def _worst(self, session: Session, targets: set[str], since: datetime) -> dict[str, CheckResultRow]:
        rows = session.scalars(select(CheckResultRow).where(CheckResultRow.target.in_(targets),
                                                           CheckResultRow.started_at >= since)
                               .order_by(CheckResultRow.started_at.desc()))
        latest: dict[tuple[str, str], CheckResultRow] = {}
        for r in rows:
            latest.setdefault((r.check, r.target), r)
        worst: dict[str, CheckResultRow] = {}
        for (_check, target), r in latest.items():
            if r.status not in _RANK:
                continue
            if target not in worst or _RANK[r.status] > _RANK[worst[target].status]:
                worst[target] = r
        return worst

    def _deepest(self, start: str, failing: set[str]) -> list[str]:
        """The longest depends_on path from ``start`` ending at a failing target (healthy hops allowed)."""
        best: list[str] = [start]

        def walk(path: list[str]) -> None:
            nonlocal best
            if path[-1] in failing and len(path) > len(best):
                best = list(path)
            if len(path) > MAX_DEPTH:
                return
            for dep in self.inventory.dependencies(path[-1]):
                if dep not in path:
                    walk([*path, dep])

        walk([start])
        return best

    def __call__(self, session: Session, incident: IncidentRow, alerts: Sequence[AlertRow], scope: set[str],
                 score: dict[str, float], now: datetime) -> list[dict[str, Any]]:
        symptoms = [t for t in incident_targets.of(session, incident.id) if t in self.inventory.targets]
        if not symptoms:
            return []
        reach: set[str] = set()
        for s in symptoms:
            stack = [s]
            while stack:
                node = stack.pop()
                if node not in reach:
                    reach.add(node)
                    stack.extend(self.inventory.dependencies(node))
        worst = self._worst(session, reach, incident.opened_at - LOOKBACK)
        failing = {t for t in reach if score.get(t, 0.0) > 0 or t in worst}
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, ...]] = set()
        for s in symptoms:
            path = self._deepest(s, failing)
            if len(path) < 2 or tuple(path) in seen or any(set(path) <= set(p) for p in seen):
                continue
            seen.add(tuple(path))
            hops = []
            for node in path:
                row = worst.get(node)
                hops.append(f"{node} ({row.check}: {row.summary[:80]})" if row is not None else node)
            word = "链路" if self.lang == "zh" else "chain"
            out.append({"kind": "chain", "target": path[-1], "path": path, "headline": True,
                        "summary": f"{word}: " + " → ".join(hops)})
        return out


__all__ = ["ChainEvidence"]
