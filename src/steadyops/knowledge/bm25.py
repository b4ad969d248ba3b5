"""Okapi BM25 over pre-tokenised passages, with an inverted index.

Our own implementation (about sixty lines) rather than a dependency: it must accept our mixed
Chinese/English tokens, grow as documents are added, and stay inspectable. Scores use the
Lucene/Robertson IDF ``ln(1 + (N - df + 0.5) / (df + 0.5))``, which never goes negative, so a term
that occurs in most runbooks (``检查``, ``check``) still ranks, just weakly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np


class BM25:
    """A growable BM25 index; document ids are positions in insertion order."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        self._total = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, tokens: Sequence[str]) -> int:
        """Index one document's tokens and return its id."""
        doc_id = len(self._lengths)
        for term, tf in Counter(tokens).items():
            self._postings.setdefault(term, []).append((doc_id, tf))
        self._lengths.append(len(tokens))
        self._total += len(tokens)
        return doc_id

    def extend(self, docs: Iterable[Sequence[str]]) -> None:
        for tokens in docs:
            self.add(tokens)

    def idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        n = len(self._lengths)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: Sequence[str], allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every document for the query (a repeated query term counts once)."""
        n = len(self._lengths)
        out = np.zeros(n, dtype=np.float64)
        if n == 0:
            return out
        avg = self._total / n or 1.0
        lengths = np.asarray(self._lengths, dtype=np.float64)
        norm = self.k1 * (1.0 - self.b + self.b * lengths / avg)
        for term in dict.fromkeys(query):
            postings = self._postings.get(term)
            if not postings:
                continue
            ids = np.fromiter((p[0] for p in postings), dtype=np.int64, count=len(postings))
            tfs = np.fromiter((p[1] for p in postings), dtype=np.float64, count=len(postings))
            out[ids] += self.idf(term) * tfs * (self.k1 + 1.0) / (tfs + norm[ids])
        if allowed is not None:
            out[~allowed] = 0.0
        return out
