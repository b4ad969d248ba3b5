"""Retrieval eval: recall@k and MRR of the knowledge base over the built-in runbooks.

Usage::

    .venv/bin/python evals/run_retrieval.py [--questions evals/retrieval/questions.yaml] [--misses]
                                            [--min-recall 0.9]

Every question names the runbook file and the section that answers it (see ``questions.yaml``). A
hit is a returned passage from that file whose heading path equals the section or ends with it. The
script prints one table row per retriever configuration (the first row is the shipped default) and,
last, one JSON line with the default's numbers, so ``make evals`` output can be parsed.

The expected sections are checked against the index first: a typo in the question file is an error,
not a silent miss.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from steadyops.knowledge import HashedNgramEmbedder, KnowledgeBase, Passage, warm_up  # noqa: E402
from steadyops.knowledge.chunking import HEADING_SEP  # noqa: E402
from steadyops.knowledge.dense import DenseIndex, top_ids  # noqa: E402

DEPTH = 10  # MRR is computed over the top 10
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Question:
    text: str
    source: str
    headings: tuple[str, ...]

    @property
    def lang(self) -> str:
        return "zh" if _CJK.search(self.text) else "en"

    def matches(self, source: str, heading: str) -> bool:
        return source == self.source and any(
            heading == h or heading.endswith(HEADING_SEP + h) for h in self.headings
        )


Search = Callable[[str, int], Sequence[tuple[str, str]]]  # query, k -> [(source, heading)]


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for item in data["questions"]:
        headings = (str(item["heading"]), *(str(h) for h in item.get("also", [])))
        out.append(Question(text=str(item["q"]), source=str(item["source"]), headings=headings))
    return out


def check_questions(questions: list[Question], kb: KnowledgeBase) -> list[str]:
    """Problems in the question file: unknown sources or sections no passage has."""
    known = {(c.source, c.heading) for c in kb.chunks}
    problems = []
    for q in questions:
        for h in q.headings:
            if not any(q.source == s and (hd == h or hd.endswith(HEADING_SEP + h)) for s, hd in known):
                problems.append(f"{q.text!r}: no passage {q.source} :: {h}")
    return problems


def evaluate(questions: list[Question], search: Search) -> dict[str, Any]:
    ranks: list[int | None] = []
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for q in questions:
        hits = search(q.text, DEPTH)
        rank = next((i for i, (s, h) in enumerate(hits, start=1) if q.matches(s, h)), None)
        ranks.append(rank)
        if rank is None or rank > 3:
            misses.append({"q": q.text, "want": f"{q.source} :: {q.headings[0]}", "rank": rank,
                           "got": [f"{s} :: {h}" for s, h in hits[:3]]})
    elapsed = time.perf_counter() - started

    def recall(k: int, subset: Sequence[int] | None = None) -> float:
        idx = range(len(questions)) if subset is None else subset
        sel = [ranks[i] for i in idx]
        return sum(1 for r in sel if r is not None and r <= k) / max(1, len(sel))

    zh = [i for i, q in enumerate(questions) if q.lang == "zh"]
    en = [i for i, q in enumerate(questions) if q.lang == "en"]
    return {
        "n": len(questions), "n_zh": len(zh), "n_en": len(en),
        "recall@1": recall(1), "recall@3": recall(3), "recall@5": recall(5),
        "mrr": statistics.fmean(1.0 / r if r else 0.0 for r in ranks),
        "recall@3_zh": recall(3, zh), "recall@3_en": recall(3, en),
        "ms_per_query": 1000 * elapsed / max(1, len(questions)),
        "misses": misses,
    }


def kb_search(kb: KnowledgeBase, lang: str) -> Search:
    def run(query: str, k: int) -> list[tuple[str, str]]:
        passages: list[Passage] = kb.search(query, k, lang=lang)  # type: ignore[arg-type]
        return [(p.source, p.heading) for p in passages]
    return run


def dense_only(kb: KnowledgeBase) -> Search:
    """The hashed n-gram retriever alone, to show what it contributes to the fusion."""
    index = DenseIndex(HashedNgramEmbedder())
    chunks = kb.chunks
    index.add([kb.index_text(c) for c in chunks])

    def run(query: str, k: int) -> list[tuple[str, str]]:
        return [(chunks[i].source, chunks[i].heading) for i in top_ids(index.scores(query), k)]
    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "evals" / "retrieval" / "questions.yaml")
    parser.add_argument("--misses", action="store_true", help="print the questions not answered in the top 3")
    parser.add_argument("--min-recall", type=float, default=0.0, help="exit 1 if the default's recall@3 is lower")
    args = parser.parse_args(argv)

    questions = load_questions(args.questions)
    t0 = time.perf_counter()
    warm_up()
    t1 = time.perf_counter()
    kb = KnowledgeBase.builtin()
    t2 = time.perf_counter()
    problems = check_questions(questions, kb)
    if problems:
        print("question file errors:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    hybrid = KnowledgeBase.builtin(embedder=HashedNgramEmbedder())
    no_prior = KnowledgeBase.builtin(section_prior=False)

    configs: list[tuple[str, Search]] = [
        ("bm25, prefer query language (default)", kb_search(kb, "auto")),
        ("bm25, no section-intent prior", kb_search(no_prior, "auto")),
        ("bm25, any language", kb_search(kb, "any")),
        ("hashed char n-grams only", dense_only(kb)),
        ("bm25 + n-grams, RRF, prefer language", kb_search(hybrid, "auto")),
    ]
    results = [(name, evaluate(questions, search)) for name, search in configs]

    n = results[0][1]
    print(f"retrieval eval: {n['n']} questions ({n['n_zh']} zh, {n['n_en']} en) over {len(kb.sources())} runbooks, "
          f"{len(kb.chunks)} passages; jieba load {t1 - t0:.2f} s, index build {t2 - t1:.2f} s")
    header = f"{'retriever':<40} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'MRR':>6} {'R@3 zh':>7} {'R@3 en':>7} {'ms/q':>6}"
    print(header)
    print("-" * len(header))
    for name, r in results:
        print(f"{name:<40} {r['recall@1']:>6.3f} {r['recall@3']:>6.3f} {r['recall@5']:>6.3f} {r['mrr']:>6.3f} "
              f"{r['recall@3_zh']:>7.3f} {r['recall@3_en']:>7.3f} {r['ms_per_query']:>6.1f}")
    if args.misses:
        for miss in n["misses"]:
            print(f"\nMISS (rank {miss['rank']}): {miss['q']}\n  want {miss['want']}")
            for got in miss["got"]:
                print(f"  got  {got}")
    summary = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in n.items() if k != "misses"}
    summary.update({"eval": "retrieval", "retriever": "bm25", "index_build_s": round(t2 - t1, 3),
                    "jieba_load_s": round(t1 - t0, 3), "passages": len(kb.chunks)})
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if n["recall@3"] < args.min_recall else 0


if __name__ == "__main__":
    sys.exit(main())
