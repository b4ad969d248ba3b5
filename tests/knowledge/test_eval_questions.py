"""The retrieval eval's questions still point at existing runbook sections (so a runbook edit cannot
silently turn ``make evals`` into a list of misses), and there are enough of them in both languages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from steadyops.knowledge import KnowledgeBase

EVALS = Path(__file__).resolve().parents[2] / "evals"


def load_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_retrieval", EVALS / "run_retrieval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("run_retrieval", module)
    spec.loader.exec_module(module)
    return module


def test_every_question_maps_to_an_existing_passage(builtin_kb: KnowledgeBase) -> None:
    rr = load_eval()
    questions = rr.load_questions(EVALS / "retrieval" / "questions.yaml")
    assert len(questions) >= 40
    assert sum(q.lang == "zh" for q in questions) >= len(questions) / 2 - 1
    assert rr.check_questions(questions, builtin_kb) == []
