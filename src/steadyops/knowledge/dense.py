"""Optional vector retrieval behind a tiny ``Embedder`` protocol, and reciprocal rank fusion.

No embedding model ships with steadyops (it must work offline and small), so by default there is no
dense retriever at all. Anyone with a model plugs it in by implementing :class:`Embedder`
(``embed(texts) -> (n, dim) float32``, rows L2-normalised). :class:`HashedNgramEmbedder` is a cheap,
dependency-free stand-in — hashed character n-grams, the "fastText without training" trick — that
catches spelling variants and unsegmented Chinese that BM25's tokens miss. Results from several
retrievers are merged with reciprocal rank fusion (Cormack et al., 2009), which needs no score
calibration between them.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from steadyops.knowledge.tokenize import EN_STOPWORDS

RRF_K = 60


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; ``name`` identifies the model (it keys cached vectors)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


_WORDS = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff]+")


class HashedNgramEmbedder:
    """Character 2- and 3-grams of each word (Chinese runs included), hashed with the sign trick.

    Deterministic across processes (CRC32, not Python's salted ``hash``), sublinear term weights,
    rows L2-normalised so a dot product is the cosine.
    """

    def __init__(self, dim: int = 4096) -> None:
        self.dim = dim
        self.name = f"hashed-ngram-{dim}"
        self._cache: dict[str, tuple[int, float]] = {}

    def _slot(self, gram: str) -> tuple[int, float]:
        hit = self._cache.get(gram)
        if hit is None:
            h = zlib.crc32(gram.encode("utf-8"))
            hit = (h % self.dim, 1.0 if (h >> 31) & 1 else -1.0)
            if len(self._cache) < 500_000:
                self._cache[gram] = hit
        return hit

    @staticmethod
    def grams(text: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for word in _WORDS.findall(text.lower()):
            if word in EN_STOPWORDS:
                continue
            padded = f"<{word}>" if word.isascii() else word
            for n in (2, 3):
                counts.update(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
        return counts

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram, count in self.grams(text).items():
                slot, sign = self._slot(gram)
                out[row, slot] += sign * (1.0 + math.log(count))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: np.ndarray = out / norms
        return result


class DenseIndex:
    """Vectors for the passages, grown in blocks; search is one matrix-vector product."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._blocks: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None

    def __len__(self) -> int:
        return sum(block.shape[0] for block in self._blocks)

    def add(self, texts: Sequence[str]) -> None:
        if texts:
            self._blocks.append(np.asarray(self.embedder.embed(texts), dtype=np.float32))
            self._matrix = None

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        if not self._blocks:
            return np.zeros(0, dtype=np.float64)
        if self._matrix is None:
            self._matrix = np.vstack(self._blocks)
            self._blocks = [self._matrix]
        vector = np.asarray(self.embedder.embed([query]), dtype=np.float32)[0]
        out: np.ndarray = np.asarray(self._matrix @ vector, dtype=np.float64)
        if allowed is not None:
            out[~allowed] = -np.inf
        return out


def top_ids(scores: np.ndarray, n: int, positive_only: bool = True) -> list[int]:
    """Ids of the ``n`` best scores, best first (ties: earlier id first)."""
    if scores.size == 0 or n <= 0:
        return []
    n = min(n, scores.size)
    candidates = np.argpartition(-scores, n - 1)[:n]
    ranked = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
    if positive_only:
        ranked = [i for i in ranked if scores[i] > 0]
    return [int(i) for i in ranked]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None,
                           k: int = RRF_K) -> Mapping[int, float]:
    """``sum_r w_r / (k + rank_r(d))`` over the rankings in which ``d`` appears (rank from 1)."""
    fused: dict[int, float] = {}
    for index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[index]
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (k + rank)
    return fused
