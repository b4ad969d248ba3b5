"""Runbooks and regulations: load (Markdown, text, HTML, PDF), chunk by heading, index, search.

Retrieval is lexical first — BM25 over jieba (Chinese) and stemmed English tokens — because
runbook questions are full of exact technical terms (``imok``, ``max_connections``, ``Xid 79``) that
lexical matching gets right. A dense retriever can be plugged in through :class:`Embedder` and is
merged by reciprocal rank fusion. Every hit is a :class:`Passage` with its source, heading path and
line span, so answers built from it can cite their evidence.
"""

from __future__ import annotations

from steadyops.knowledge.base import KnowledgeBase, Passage, builtin_runbooks, query_lang
from steadyops.knowledge.chunking import Chunk, chunk_document
from steadyops.knowledge.dense import Embedder, HashedNgramEmbedder, reciprocal_rank_fusion
from steadyops.knowledge.loaders import SUPPORTED_SUFFIXES, Document, Line, load_bytes, load_file
from steadyops.knowledge.store import KnowledgeStore, StoredDocument, SyncedKnowledgeBase, open_knowledge_base
from steadyops.knowledge.tokenize import tokenize, warm_up

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "Document",
    "Embedder",
    "HashedNgramEmbedder",
    "KnowledgeBase",
    "KnowledgeStore",
    "Line",
    "Passage",
    "StoredDocument",
    "SyncedKnowledgeBase",
    "builtin_runbooks",
    "chunk_document",
    "load_bytes",
    "load_file",
    "open_knowledge_base",
    "query_lang",
    "reciprocal_rank_fusion",
    "tokenize",
    "warm_up",
]
