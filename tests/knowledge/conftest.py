"""One built-in knowledge base for the whole session: jieba loads once (~0.6 s), indexing ~0.15 s."""

from __future__ import annotations

import pytest

from steadyops.knowledge import KnowledgeBase


@pytest.fixture(scope="session")
def builtin_kb() -> KnowledgeBase:
    return KnowledgeBase.builtin()
