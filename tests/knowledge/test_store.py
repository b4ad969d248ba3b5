"""User documents persist under data_dir/kb, are cached, and a running knowledge base follows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steadyops.core.errors import NotFound, ValidationFailed
from steadyops.knowledge import KnowledgeStore, SyncedKnowledgeBase, open_knowledge_base

from .pdf import make_pdf

RUNBOOK = "# Payments failover\n\n## Steps\n\nPromote the standby with `patronictl failover`.\n"


def test_add_copies_the_document_and_survives_a_new_process(tmp_path: Path) -> None:
    source = tmp_path / "docs" / "payments.md"
    source.parent.mkdir()
    source.write_text(RUNBOOK)
    store = KnowledgeStore(tmp_path / "kb")
    [(entry, passages)] = store.add_path(source)
    assert (entry.name, entry.format, passages) == ("payments.md", "markdown", 1)
    source.unlink()  # the knowledge base keeps its own copy

    kb = open_knowledge_base(tmp_path, builtin=False)  # data_dir/kb, as the CLI and server use it
    [hit] = kb.search("patronictl failover", 1)
    assert (hit.source, hit.heading, hit.line_start, hit.line_end) == ("payments.md", "Payments failover > Steps", 3, 5)
    manifest = json.loads((tmp_path / "kb" / "manifest.json").read_text())
    assert [d["name"] for d in manifest["documents"]] == ["payments.md"]


def test_directory_add_names_files_by_relative_path_and_skips_hidden(tmp_path: Path) -> None:
    docs = tmp_path / "ops"
    (docs / "db").mkdir(parents=True)
    (docs / "db" / "pg.md").write_text("# PG\n\n## Vacuum\n\nRun VACUUM FREEZE.\n")
    (docs / "guide.pdf").write_bytes(make_pdf([["1 Intro", "Call the duty manager first."]]))
    (docs / ".secret.md").write_text("# hidden\n\nnope\n")
    (docs / "image.png").write_bytes(b"\x89PNG")
    names = sorted(e.name for e, _ in KnowledgeStore(tmp_path / "kb").add_path(docs))
    assert names == ["ops/db/pg.md", "ops/guide.pdf"]


def test_running_knowledge_base_follows_adds_and_removes(tmp_path: Path) -> None:
    store = KnowledgeStore(tmp_path / "kb")
    kb = SyncedKnowledgeBase(store, builtin=False)
    assert kb.search("patronictl", 1) == []
    store.add_bytes("payments.md", RUNBOOK.encode())  # e.g. `steadyops kb add` from another process
    assert kb.search("patronictl", 1)[0].source == "payments.md"
    store.add_bytes("payments.md", b"# Payments failover\n\n## Steps\n\nUse go/failover.\n")
    assert kb.search("patronictl", 1) == [] and kb.search("go/failover", 1)
    store.remove("payments.md")
    assert kb.search("failover", 1) == []
    assert not list((tmp_path / "kb" / "docs").iterdir())  # copies are garbage-collected


def test_cache_is_used_and_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    store = KnowledgeStore(tmp_path / "kb")
    store.add_bytes("payments.md", RUNBOOK.encode())
    [cache] = list((tmp_path / "kb" / "cache").glob("*.json"))
    rows = json.loads(cache.read_text())
    assert rows[0]["chunk"]["heading"] == "Payments failover > Steps" and "patronictl" in rows[0]["tokens"]
    cache.write_text("{not json")
    kb = SyncedKnowledgeBase(store, builtin=False)
    assert kb.search("patronictl", 1)[0].source == "payments.md"


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/../../b", "bad\x00name", "integrations/host/x.md", "x" * 201])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationFailed):
        KnowledgeStore(tmp_path / "kb").add_bytes(name, RUNBOOK.encode(), fmt="markdown")
    assert not (tmp_path / "kb" / "manifest.json").exists()


def test_broken_or_empty_documents_leave_no_trace(tmp_path: Path) -> None:
    store = KnowledgeStore(tmp_path / "kb")
    with pytest.raises(ValidationFailed):
        store.add_bytes("empty.md", b"\n\n")
    with pytest.raises(ValidationFailed):
        store.add_bytes("broken.pdf", b"%PDF-1.4 garbage")
    assert store.documents() == []
    with pytest.raises(NotFound):
        store.remove("missing.md")
