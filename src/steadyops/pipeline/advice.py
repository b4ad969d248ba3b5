"""What a diagnosis may cite and propose: only runbooks and actions that match its findings.

Why a separate step: a full-text search over every runbook ranks by shared words, so a disk fault
"matched" a GPU-memory runbook ("full"), a stopped Redis "nginx down" ("down", "connection
refused"). Citing such a passage is an unsupported claim. Here a passage is cited only when it
comes from a runbook that a *definitely failing* finding of the suspect points at — the check's
own runbook for the layer it failed in (:meth:`Check.runbook_for`). The search still orders the
passages within those runbooks; when none of them is among the hits, nothing is cited.

Actions likewise: each :class:`~steadyops.contracts.actions.Action` says which findings it remedies
(:meth:`Action.can_remedy`: checks, layers, liveness), so the core holds no list of remedies, an
UNKNOWN ("could not ask") finding never earns a purge, and nothing is proposed when nothing fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from steadyops.contracts.actions import Symptom
from steadyops.core.errors import PluginError
from steadyops.core.models import CheckStatus
from steadyops.plugins import Registry

Search = Callable[[str, int, str], Sequence[Any]]  # (query, k, lang) -> passages with .to_dict()

#: how many hits to look through for passages of the matching runbooks
SEARCH_DEPTH = 60
CITED = 3


@dataclass(frozen=True)
class Failing:
    """One definitely failing finding of the top suspect, as the runner stored it."""

    check: str
    target_kind: str
    status: CheckStatus
    layer: str
    summary: str
    runbook: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def _check_class(registry: Registry, name: str) -> Any:
    try:
        return registry.checks.get(name)
    except PluginError:
        return None


def runbook_of(registry: Registry, f: Failing) -> str | None:
    """The runbook for this failure: the check's for its layer; else what the runner stored."""
    cls = _check_class(registry, f.check)
    if cls is not None:
        found = cls.runbook_for(f.layer, f.metrics)
        return str(found) if found else None
    return f.runbook


def _stem(path: str) -> str:
    """``redis/redis-memory.en.md`` and ``integrations/redis/runbooks/redis-memory.zh.md`` → ``redis-memory``
    under ``redis``: the runbook, whatever its language."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    for suffix in (".en.md", ".zh.md", ".md"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    integration = parts[-3] if len(parts) >= 3 and parts[-2] == "runbooks" else (parts[-2] if len(parts) >= 2 else "")
    return f"{integration}/{name}"


def matching_runbooks(search: Search | None, registry: Registry, failing: Sequence[Failing], query: str,
                      lang: str) -> list[dict[str, Any]]:
    """Passages from the runbooks the failing findings name, best first; [] when none of them is found."""
    if search is None:
        return []
    wanted = {_stem(rb) for f in failing if f.status in (CheckStatus.CRITICAL, CheckStatus.WARNING)
              if (rb := runbook_of(registry, f))}
    if not wanted:
        return []
    hits = [p for p in search(query, SEARCH_DEPTH, lang) if _stem(str(getattr(p, "source", ""))) in wanted]
    return [p.to_dict() for p in hits[:CITED]]


#: lower layers explain higher ones: a read-only disk explains a dead process, a dead process a
#: missing quorum, a full connection table slow answers. Unlisted layers come last.
LAYER_ORDER = ("host", "network", "disk", "process", "quorum", "replication", "capacity", "load", "upstream",
               "config")


def explaining(failing: Sequence[Failing]) -> list[Failing]:
    """The findings of the layer that explains the rest: the lowest layer among the CRITICAL findings
    (the WARNING ones when none is critical). A remedy for a symptom above it would not help: a
    restart does not fix a read-only disk."""
    for level in (CheckStatus.CRITICAL, CheckStatus.WARNING):
        layers = {f.layer for f in failing if f.status is level}
        if layers:
            lowest = min(layers, key=lambda x: LAYER_ORDER.index(x) if x in LAYER_ORDER else len(LAYER_ORDER))
            return [f for f in failing if f.layer == lowest and f.status in (CheckStatus.CRITICAL,
                                                                              CheckStatus.WARNING)]
    return []


def remedies(registry: Registry, target: str, failing: Sequence[Failing], confidence: float,
             liveness: Callable[[str], bool] | None = None) -> list[dict[str, Any]]:
    """Actions whose :meth:`can_remedy` accepts at least one finding of the top suspect's explaining layer."""
    failing = explaining(failing)
    is_live = liveness or (lambda name: bool(getattr(_check_class(registry, name), "liveness", False)))
    symptoms = [Symptom(check=f.check, target_kind=f.target_kind, status=f.status, layer=f.layer,
                        liveness=is_live(f.check), metrics=f.metrics) for f in failing]
    out = []
    for name in registry.actions.names():
        cls = registry.actions.get(name)
        hit = [s for s in symptoms if cls.can_remedy(s)]
        if hit:
            proposal: dict[str, Any] = {"action": name, "target": target, "because": sorted({s.check for s in hit}),
                                        "risk": cls.risk.value, "confidence": round(confidence, 3),
                                        "status": "proposed (not executed)"}
            if params := cls.suggest(hit):
                proposal["params"] = params
            out.append(proposal)
    return out
