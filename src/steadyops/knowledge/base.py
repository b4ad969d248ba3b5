"""The knowledge base: documents in, cited passages out.

``KnowledgeBase.builtin()`` indexes the runbooks shipped under ``integrations/*/runbooks/*.md``;
``add_path`` / ``add_text`` add anything else. ``search`` ranks passages with BM25 (plus, when an
:class:`Embedder` is given, a vector retriever merged by reciprocal rank fusion) and returns
:class:`Passage` objects that carry their source, heading path and line span — a diagnosis that
quotes a runbook must say exactly where the words came from.

Passage text is untrusted data. It is stored and returned verbatim and never interpreted; callers
that hand it to an LLM must quote it as data (see ``agent/guard.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from steadyops.core.errors import ValidationFailed
from steadyops.knowledge.bm25 import BM25
from steadyops.knowledge.chunking import DEFAULT_MAX_CHARS, Chunk, chunk_document
from steadyops.knowledge.dense import DenseIndex, Embedder
from steadyops.knowledge.intent import section_kind
from steadyops.knowledge.loaders import SUPPORTED_SUFFIXES, Document, load_bytes
from steadyops.knowledge.ranking import ChunkFeatures, adjust, best, fuse
from steadyops.knowledge.tokenize import tokenize

LangPreference = Literal["auto", "zh", "en", "any"]
MAX_FILE_BYTES = 50 * 1024 * 1024
_BUILTIN_CACHE: dict[tuple[int, int], tuple[list[Chunk], list[list[str]]]] = {}
_BUILTIN_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Passage:
    """A search hit with its citation; ``line_start``/``line_end`` are 1-based, inclusive."""

    source: str
    heading: str
    line_start: int
    line_end: int
    text: str
    score: float
    lang: str | None = None
    page: int | None = None

    @property
    def citation(self) -> str:
        """``integrations/zookeeper/runbooks/zk-disk-cleanup.zh.md:40-58`` (plus the PDF page)."""
        where = f"{self.source}:{self.line_start}-{self.line_end}"
        return f"{where} (p. {self.page})" if self.page is not None else where

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citation"] = self.citation
        return data


def index_text(chunk: Chunk, heading_weight: int) -> str:
    """What BM25 sees: the heading path, repeated because it names the topic, then the passage."""
    return "\n".join([chunk.heading] * heading_weight + [chunk.text])


def query_lang(query: str) -> str:
    """The language a question is asked in: any Chinese character makes it Chinese."""
    return "zh" if any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in query) else "en"


def builtin_runbooks() -> Iterator[tuple[str, Traversable]]:
    """``(source name, file)`` for every shipped runbook, sorted, via importlib.resources."""
    root = resources.files("steadyops").joinpath("integrations")
    found: list[tuple[str, Traversable]] = []
    for integration in root.iterdir():
        runbooks = integration.joinpath("runbooks")
        if not integration.is_dir() or not runbooks.is_dir():
            continue
        for item in runbooks.iterdir():
            if item.name.endswith(".md") and item.is_file():
                found.append((f"integrations/{integration.name}/runbooks/{item.name}", item))
    return iter(sorted(found, key=lambda pair: pair[0]))


def plugin_runbooks(packages: Sequence[str]) -> Iterator[tuple[str, Traversable]]:
    """``(source name, file)`` for the runbooks plugins registered (``registry.add_runbooks``): the
    ``runbooks/*.md`` of each package, named ``<package path>/runbooks/<file>`` for citations."""
    found: list[tuple[str, Traversable]] = []
    for package in packages:
        runbooks = resources.files(package).joinpath("runbooks")
        if not runbooks.is_dir():
            continue
        for item in runbooks.iterdir():
            if item.name.endswith(".md") and item.is_file():
                found.append((f"{package.replace('.', '/')}/runbooks/{item.name}", item))
    return iter(sorted(found, key=lambda pair: pair[0]))


def iter_files(path: Path) -> Iterator[tuple[str, Path]]:
    """Supported files under ``path`` as ``(name, file)``; a directory's files are named
    ``dirname/relative/path`` so citations stay readable. Hidden entries and symlinked directories
    are skipped (no loops, no escaping the tree)."""
    if path.is_file():
        yield path.name, path
        return
    if not path.is_dir():
        raise ValidationFailed(f"{path} is neither a file nor a directory")
    base = path.resolve()
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith(".") or not filename.lower().endswith(SUPPORTED_SUFFIXES):
                continue
            file = Path(dirpath) / filename
            if file.is_file():
                yield f"{base.name}/{file.relative_to(base).as_posix()}", file


class KnowledgeBase:
    """An in-memory, thread-safe index of passages; cheap to rebuild (the built-ins take ~0.1 s
    after jieba's one-off ~0.6 s load), so nothing but user documents is persisted."""

    def __init__(self, *, embedder: Embedder | None = None, max_chars: int = DEFAULT_MAX_CHARS,
                 heading_weight: int = 2, section_prior: bool = True) -> None:
        self.embedder = embedder
        self.section_prior = section_prior
        self.max_chars = max_chars
        self.heading_weight = heading_weight
        self._lock = threading.RLock()
        self._chunks: list[Chunk] = []
        self._tokens: list[list[str]] = []
        self._bm25 = BM25()
        self._dense = DenseIndex(embedder) if embedder is not None else None
        self._indexed = 0
        self._stale = False
        self._features: ChunkFeatures | None = None

    # -- building --------------------------------------------------------------------------------
    @classmethod
    def builtin(cls, **kwargs: Any) -> KnowledgeBase:
        """A knowledge base holding every runbook shipped with steadyops."""
        kb = cls(**kwargs)
        kb.add_builtin()
        return kb

    def add_builtin(self) -> int:
        """Index the shipped runbooks; returns how many passages they gave.

        They are package data and never change while the process runs, so their passages and tokens
        are parsed once per process and shared by every knowledge base built with the same settings.
        """
        key = (self.max_chars, self.heading_weight)
        with _BUILTIN_LOCK:
            cached = _BUILTIN_CACHE.get(key)
            if cached is None:
                chunks = [c for name, item in builtin_runbooks()
                          for c in chunk_document(load_bytes(name, item.read_bytes(), "markdown"), self.max_chars)]
                cached = _BUILTIN_CACHE[key] = (chunks, self.tokens_for(chunks))
        return self.add_chunks(*cached)

    def add_plugin_runbooks(self, packages: Sequence[str]) -> int:
        """Index the runbooks of plugins outside the package (built-ins' are :meth:`add_builtin`'s)."""
        chunks = [c for name, item in plugin_runbooks(packages)
                  for c in chunk_document(load_bytes(name, item.read_bytes(), "markdown"), self.max_chars)]
        return self.add_chunks(chunks) if chunks else 0

    def index_text(self, chunk: Chunk) -> str:
        return index_text(chunk, self.heading_weight)

    def tokens_for(self, chunks: Sequence[Chunk]) -> list[list[str]]:
        """The tokens this knowledge base would index for the passages (cacheable)."""
        return [tokenize(self.index_text(c)) for c in chunks]

    def add_chunks(self, chunks: Sequence[Chunk], tokens: Sequence[list[str]] | None = None) -> int:
        """Add passages (already tokenised when ``tokens`` is given, e.g. from a cache)."""
        if tokens is not None and len(tokens) != len(chunks):
            raise ValueError("one token list per chunk")
        toks = list(tokens) if tokens is not None else self.tokens_for(chunks)
        with self._lock:
            for source in {c.source for c in chunks}:
                self._drop(source)
            self._chunks.extend(chunks)
            self._tokens.extend(toks)
        return len(chunks)

    def add_document(self, doc: Document) -> int:
        """Index a parsed document, replacing any earlier one with the same source."""
        chunks = chunk_document(doc, self.max_chars)
        with self._lock:
            self._drop(doc.source)
            return self.add_chunks(chunks)

    def add_bytes(self, name: str, data: bytes, fmt: str | None = None) -> int:
        """Parse and index raw bytes; the format comes from ``fmt`` or the name's suffix."""
        return self.add_document(load_bytes(name, data, fmt))

    def add_text(self, name: str, text: str, fmt: str | None = None) -> int:
        """Index text under ``name`` (Markdown unless the name or ``fmt`` says otherwise)."""
        if fmt is None and not name.lower().endswith(SUPPORTED_SUFFIXES):
            fmt = "markdown"
        return self.add_bytes(name, text.encode("utf-8"), fmt)

    def add_path(self, path: str | Path) -> list[str]:
        """Index a file, or every supported file under a directory; returns the source names."""
        added: list[str] = []
        for name, file in iter_files(Path(path)):
            if file.stat().st_size > MAX_FILE_BYTES:
                raise ValidationFailed(f"{file} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            self.add_bytes(name, file.read_bytes())
            added.append(name)
        return added

    def remove(self, source: str) -> bool:
        """Forget a document; True when it was there."""
        with self._lock:
            return self._drop(source)

    def _drop(self, source: str) -> bool:
        keep = [i for i, c in enumerate(self._chunks) if c.source != source]
        if len(keep) == len(self._chunks):
            return False
        self._chunks = [self._chunks[i] for i in keep]
        self._tokens = [self._tokens[i] for i in keep]
        self._stale = True
        return True

    # -- reading ---------------------------------------------------------------------------------
    @property
    def chunks(self) -> list[Chunk]:
        with self._lock:
            return list(self._chunks)

    def sources(self) -> list[str]:
        with self._lock:
            return sorted({c.source for c in self._chunks})

    def document(self, source: str) -> list[Chunk]:
        """All passages of one document in order, e.g. to show a whole runbook."""
        with self._lock:
            return [c for c in self._chunks if c.source == source]

    def _ensure_index(self) -> None:
        if self._stale:
            self._bm25 = BM25(self._bm25.k1, self._bm25.b)
            self._dense = DenseIndex(self.embedder) if self.embedder is not None else None
            self._indexed = 0
            self._stale = False
        if self._indexed < len(self._chunks):
            new = range(self._indexed, len(self._chunks))
            self._bm25.extend(self._tokens[i] for i in new)
            if self._dense is not None:
                self._dense.add([self.index_text(self._chunks[i]) for i in new])
            self._indexed = len(self._chunks)
            self._features = None
        if self._features is None:
            self._features = ChunkFeatures.build([c.source for c in self._chunks], [c.lang for c in self._chunks],
                                                 [section_kind(c.heading) for c in self._chunks])

    def search(self, query: str, k: int = 5, *, lang: LangPreference = "auto",
               source_prefix: str | None = None) -> list[Passage]:
        """The ``k`` best passages for a question, best first.

        ``lang``: ``auto`` prefers passages in the query's language, ``zh``/``en`` keep only that
        language, ``any`` ignores language. ``source_prefix`` limits the search to some documents
        (e.g. ``integrations/zookeeper/``).
        """
        if k <= 0 or not query.strip():
            return []
        q_tokens = tokenize(query)
        with self._lock:
            self._ensure_index()
            if not self._chunks or self._features is None:
                return []
            allowed = self._allowed(lang, source_prefix)
            lexical = self._bm25.scores(q_tokens, allowed)
            dense = self._dense.scores(query, allowed) if self._dense is not None else None
            scores = adjust(fuse(lexical, dense), self._features, query=query,
                            prefer_lang=query_lang(query) if lang == "auto" else None,
                            section_prior=self.section_prior)
            return [self._passage(i, score) for i, score in best(scores, k)]

    def _allowed(self, lang: LangPreference, source_prefix: str | None) -> np.ndarray | None:
        if lang not in ("zh", "en") and not source_prefix:
            return None
        mask = np.ones(len(self._chunks), dtype=bool)
        for i, chunk in enumerate(self._chunks):
            if lang in ("zh", "en") and chunk.lang not in (lang, None):
                mask[i] = False
            if source_prefix and not chunk.source.startswith(source_prefix):
                mask[i] = False
        return mask

    def _passage(self, index: int, score: float) -> Passage:
        c = self._chunks[index]
        return Passage(source=c.source, heading=c.heading, line_start=c.line_start, line_end=c.line_end,
                       text=c.text, score=round(score, 6), lang=c.lang, page=c.page)
