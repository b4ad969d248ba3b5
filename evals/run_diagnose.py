"""Diagnosis evals: each case folder replays captured check results and tool outputs from a
fault-injection scenario, and we score what steadyops concludes.

    python evals/run_diagnose.py [--cases DIR] [--out FILE] [--mode deterministic|llm|both]

Scores per mode: root cause @1 (the top suspect is one of the expected targets), the proposed
action (exactly the expected remedies, or none), the cited runbooks (``expected.runbooks`` all
cited, ``expected.runbooks_not`` never: a disk fault citing a GPU runbook fails), and unsupported
claims (suspects or actions that no evidence mentions; for the LLM, also citations of evidence
ids it never received and targets it names that no tool output showed). The deterministic mode
always runs; the LLM mode runs when ``STEADYOPS_LLM__BASE_URL`` and ``STEADYOPS_LLM__MODEL`` are set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

import yaml

from steadyops.app import build_app
from steadyops.config.settings import Settings
from steadyops.contracts.checks import Check
from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence, Snapshot
from steadyops.pipeline import diagnose
from steadyops.plugins import Registry, load_plugins
from steadyops.store import incidents as incidents_repo

HERE = Path(__file__).resolve().parent


@dataclass
class Score:
    case: str
    mode: str
    rc_at_1: bool
    action_ok: bool
    unsupported: int
    top: str
    proposed: list[str]
    detail: str = ""
    #: cited runbooks: every ``expected.runbooks`` among them, none of ``expected.runbooks_not``
    runbook_ok: bool = True
    cited: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def replay_registry(case: dict[str, Any]) -> Registry:
    """Built-in actions, plus checks and collectors that answer from the case's captured outputs."""
    real = load_plugins(entry_points_too=False)
    reg = Registry()
    for name in real.actions.names():
        reg.add_action(real.actions.get(name))
    by_check: dict[str, dict[str, dict[str, Any]]] = {}
    for f in case.get("findings", []):
        by_check.setdefault(f["check"], {})[f["target"]] = f
    kinds = {t["name"]: t["kind"] for t in case["inventory"]}
    for check_name, per_target in by_check.items():
        kind = kinds[next(iter(per_target))]
        # the replayed check keeps what the real one declares: its runbooks and whether it is a liveness check
        original: Any = real.checks.get(check_name) if check_name in real.checks.names() else None
        flagged = [f["liveness"] for f in per_target.values() if "liveness" in f]

        class Replay(Check):
            name: ClassVar[str] = check_name
            target_kind: ClassVar[str] = kind
            runbook: ClassVar[str | None] = getattr(original, "runbook", None)
            layer_runbooks: ClassVar[dict[str, str]] = dict(getattr(original, "layer_runbooks", {}))
            liveness: ClassVar[bool] = bool(flagged[0]) if flagged else bool(getattr(original, "liveness", False))
            _data: ClassVar[dict[str, dict[str, Any]]] = per_target
            _original: ClassVar[Any] = original

            @classmethod
            def runbook_for(cls, layer: str, metrics: Mapping[str, float] | None = None) -> str | None:
                if cls._original is not None:  # the real check's choice (e.g. read-only disk vs full disk)
                    return cast(str | None, cls._original.runbook_for(layer, metrics))
                return super().runbook_for(layer, metrics)

            async def run(self, target: Target) -> CheckResult:
                f = self._data.get(target.name)
                if f is None:
                    return CheckResult(status=CheckStatus.OK, summary="ok")
                return CheckResult(status=CheckStatus(f["status"]), summary=f["summary"], layer=f.get("layer", ""),
                                   metrics={k: float(v) for k, v in (f.get("metrics") or {}).items()},
                                   evidence=[Evidence(source=self.name, detail=str(f.get("evidence", "")))])

        Replay.__doc__ = f"replayed {check_name}"
        reg.add_check(Replay)
    for coll_name, per_target in (case.get("tool_outputs") or {}).items():
        kind = kinds[next(iter(per_target))]

        class ReplayCollector(Collector):
            name: ClassVar[str] = coll_name
            target_kind: ClassVar[str] = kind
            description: ClassVar[str] = f"{coll_name} (captured)"
            _data: ClassVar[dict[str, Any]] = per_target

            async def collect(self, target: Target) -> Snapshot:
                return Snapshot(collector=self.name, target=target.name, data={"output": self._data.get(target.name)},
                                collected_at=datetime.now(UTC))

        reg.add_collector(ReplayCollector)
    return reg


def _runbooks_ok(expected: dict[str, Any], cited: list[str]) -> bool:
    """Each ``runbooks`` entry is part of some cited source; no ``runbooks_not`` entry is part of any."""
    must, never = expected.get("runbooks", []), expected.get("runbooks_not", [])
    return (all(any(m in c for c in cited) for m in must)
            and not any(n in c for n in never for c in cited))


def _unsupported(claims: list[str], evidence_text: str) -> int:
    return sum(1 for c in claims if c and c not in evidence_text)


async def run_case(path: Path, modes: list[str]) -> list[Score]:
    case = yaml.safe_load((path / "case.yaml").read_text(encoding="utf-8"))
    expected_rc = set(case["expected"]["root_cause"])
    expected_actions = sorted(case["expected"].get("actions", []))
    scores: list[Score] = []
    with tempfile.TemporaryDirectory() as tmp:
        inv = Path(tmp) / "inventory.yaml"
        inv.write_text(yaml.safe_dump({"targets": case["inventory"]}))
        settings = Settings(data_dir=Path(tmp), inventory=inv, lang=case.get("lang", "en"),
                            route={"group_by": ["alertname"], "group_wait": 0, "group_interval": 1,
                                   "repeat_interval": 3600})
        app = build_app(settings, registry=replay_registry(case))
        try:
            await app.checks.inspect(app.checks.jobs())
            app.pipeline.process_sync()
            with app.store.transaction() as s:
                rows = incidents_repo.list_rows(s)
                diags = [d for r in rows if (d := diagnose.latest(s, r.id, "deterministic"))]
            best = max(diags, key=lambda d: (len(d.evidence), d.confidence), default=None)
            if best is None:
                scores.append(Score(path.name, "deterministic", False, not expected_actions, 0, "", [], "no incident"))
            else:
                top = best.candidates[0]["target"] if best.candidates and not best.inconclusive else ""
                proposed = sorted({a["action"] for d in diags for a in d.actions})
                ev_text = json.dumps(best.evidence)
                claims = [c["target"] for c in best.candidates[:1]] + [a["target"] for a in best.actions]
                rc_ok = top in expected_rc if expected_rc else top == ""  # no expected cause: inconclusive is right
                # e.g. a proxy answering 502 must not be "the root cause" itself in the sentence
                rc_ok = rc_ok and not any(bad in best.summary for bad in case["expected"].get("summary_not", []))
                cited = sorted({str(r.get("source", "")) for d in diags for r in d.runbooks})
                scores.append(Score(path.name, "deterministic", rc_ok, proposed == expected_actions,
                                    _unsupported(claims, ev_text), top, proposed, best.summary,
                                    runbook_ok=_runbooks_ok(case["expected"], cited), cited=cited))
            if "llm" in modes:
                scores.append(await _llm(app, case, path.name, expected_rc, expected_actions))
        finally:
            app.close()
    return scores


async def _llm(app: Any, case: dict[str, Any], name: str, expected_rc: set[str],
               expected_actions: list[str]) -> Score:
    from steadyops.agent.ask import Investigator

    answer = await Investigator(app, propose=False).ask(case["question"], case.get("lang", "en"))
    text = answer.text
    seen = " ".join(e.excerpt for e in answer.evidence)
    ids = {e.id for e in answer.evidence}
    bad_citations = [c for c in re.findall(r"\[(E\d+)\]", text) if c not in ids]
    names = [t["name"] for t in case["inventory"]]
    unseen_targets = [n for n in names if n in text and n not in seen and n not in case["question"]]
    top = next((n for n in names if n in text), "")
    mentioned = [n for n in names if n in text]
    rc = bool(mentioned) and mentioned[0] in expected_rc
    proposed = sorted({p.action for p in answer.proposals})
    return Score(name, "llm", rc, proposed == expected_actions, len(bad_citations) + len(unseen_targets), top,
                 proposed, text[:120].replace("\n", " "), {"errors": answer.errors})


def table(scores: list[Score]) -> str:
    lines = [f"{'case':32} {'mode':13} {'rc@1':>5} {'action':>6} {'unsupp':>6} {'rbook':>5}  top / proposed"]
    for s in scores:
        lines.append(f"{s.case:32} {s.mode:13} {int(s.rc_at_1):>5} {int(s.action_ok):>6} {s.unsupported:>6} "
                     f"{int(s.runbook_ok):>5}  {s.top or '-'} / {','.join(s.proposed) or '-'}")
    for mode in sorted({s.mode for s in scores}):
        ms = [s for s in scores if s.mode == mode]
        lines.append(f"{'TOTAL ' + mode:46} {sum(s.rc_at_1 for s in ms) / len(ms):>5.2f} "
                     f"{sum(s.action_ok for s in ms) / len(ms):>6.2f} {sum(s.unsupported for s in ms):>6} "
                     f"{sum(s.runbook_ok for s in ms) / len(ms):>5.2f}  ({len(ms)} cases)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=Path, default=HERE / "diagnose")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "diagnose.json")
    ap.add_argument("--mode", choices=["deterministic", "llm", "both"], default="both")
    args = ap.parse_args()
    llm_ready = bool(os.environ.get("STEADYOPS_LLM__BASE_URL") and os.environ.get("STEADYOPS_LLM__MODEL"))
    modes = ["deterministic"] + (["llm"] if args.mode != "deterministic" and llm_ready else [])
    if args.mode == "llm" and not llm_ready:
        print("LLM mode needs STEADYOPS_LLM__BASE_URL and STEADYOPS_LLM__MODEL", file=sys.stderr)
        return 2
    cases = sorted(p for p in args.cases.iterdir() if (p / "case.yaml").is_file())
    scores = [s for c in cases for s in asyncio.run(run_case(c, modes))]
    print(table(scores))
    summary: dict[str, Any] = {"bench": "diagnose", "cases": len(cases), "modes": {}}
    for mode in modes:
        ms = [s for s in scores if s.mode == mode]
        summary["modes"][mode] = {"rc_at_1": round(sum(s.rc_at_1 for s in ms) / len(ms), 3),
                                  "action_accuracy": round(sum(s.action_ok for s in ms) / len(ms), 3),
                                  "unsupported_claims": sum(s.unsupported for s in ms),
                                  "runbook_accuracy": round(sum(s.runbook_ok for s in ms) / len(ms), 3)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "scores": [s.__dict__ for s in scores]}, indent=1,
                                   ensure_ascii=False, default=str))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
