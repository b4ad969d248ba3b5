"""Turn retriever scores into the final passage ranking.

Three adjustments on top of the retrievers, each a single global constant, chosen on the retrieval
eval (``evals/retrieval``) with a dev/test split of its questions and identical for every corpus:

1. **Document evidence** (``DOC_WEIGHT``): a passage also earns the score of the best passage of its
   document, and every passage of a matched document is a candidate. A question names its topic
   with words spread over the runbook (the error in *Symptoms*, the command in *Checks*) while the
   section that answers may share few of them; this is the "parent document" idea of hierarchical
   retrieval, done with one ``np.maximum.at``.
2. **Language preference** (``OTHER_LANG_FACTOR``): every built-in runbook exists in zh and en; a
   Chinese question should see the Chinese passage first, an English one the English passage.
3. **Section intent** (:mod:`steadyops.knowledge.intent`): a passage whose section kind matches
   what the question asks for (fix / cause / check / meaning / risk) is boosted. A question with no
   recognisable intent — typically a pasted symptom — leans, more weakly, towards the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from steadyops.knowledge.dense import reciprocal_rank_fusion, top_ids
from steadyops.knowledge.intent import SECTION_BOOST, query_intent

DOC_WEIGHT = 1.0
OTHER_LANG_FACTOR = 0.5
DEFAULT_INTENT = "fix"
DEFAULT_INTENT_BOOST = SECTION_BOOST / 2
CANDIDATES = 200  # per retriever, before fusion


@dataclass(frozen=True)
class ChunkFeatures:
    """Per-passage arrays aligned with the index: document number, language and section kind."""

    doc: np.ndarray  # int64
    lang: np.ndarray  # object: "zh" | "en" | None
    kind: np.ndarray  # object: section kind or None

    @classmethod
    def build(cls, sources: Sequence[str], langs: Sequence[str | None], kinds: Sequence[str | None]) -> ChunkFeatures:
        numbers: dict[str, int] = {}
        doc = np.fromiter((numbers.setdefault(s, len(numbers)) for s in sources), dtype=np.int64, count=len(sources))
        return cls(doc=doc, lang=np.asarray(list(langs), dtype=object), kind=np.asarray(list(kinds), dtype=object))


def fuse(lexical: np.ndarray, dense: np.ndarray | None) -> np.ndarray:
    """One score per passage: BM25 alone, or reciprocal rank fusion of BM25 and the dense retriever."""
    if dense is None:
        return np.where(lexical > 0, lexical, 0.0)
    fused = reciprocal_rank_fusion([top_ids(lexical, CANDIDATES), top_ids(dense, CANDIDATES)])
    out = np.zeros(lexical.shape[0], dtype=np.float64)
    for i, score in fused.items():
        out[i] = score
    return out


def adjust(scores: np.ndarray, features: ChunkFeatures, *, query: str, prefer_lang: str | None,
           section_prior: bool) -> np.ndarray:
    """Apply document evidence, language preference and section intent.

    Every passage of a matched document becomes a candidate, even one sharing no word with the
    question: "怎么救" matches nothing in *处理步骤*, yet that is the section to show once the error
    message has identified the runbook. Documents with no match at all stay at zero.
    """
    if scores.size == 0:
        return scores
    doc_best = np.zeros(int(features.doc.max()) + 1, dtype=np.float64)
    np.maximum.at(doc_best, features.doc, scores)
    parent = doc_best[features.doc]
    out = np.where(parent > 0, scores + DOC_WEIGHT * parent, 0.0)
    if prefer_lang is not None:
        other = np.array([lang is not None and lang != prefer_lang for lang in features.lang], dtype=bool)
        out[other] *= OTHER_LANG_FACTOR
    if section_prior:
        kind, boost = query_intent(query), SECTION_BOOST
        if kind is None:
            kind, boost = DEFAULT_INTENT, DEFAULT_INTENT_BOOST
        out[features.kind == kind] *= 1.0 + boost
    return out


def best(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` highest positive scores as ``(index, score)``, ties broken by index."""
    return [(i, float(scores[i])) for i in top_ids(scores, k)]
