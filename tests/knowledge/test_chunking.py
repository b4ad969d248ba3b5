"""Chunking by heading: heading paths, exact line spans, long sections split on paragraphs."""

from __future__ import annotations

import itertools

from steadyops.knowledge import chunk_document, load_bytes

DOC = """---
owner: sre
---
# ZooKeeper 磁盘清理

适用于 dataDir 写满。

## 排查

```bash
# 这一行不是标题
du -sh /var/lib/zookeeper/version-2
```

## 处理步骤

### 手工清理

zkCleanup.sh -n 3

## 空章节

## Setext
Subsection
----------
body of the setext subsection
"""


def chunks_of(text: str, name: str = "zk.zh.md", max_chars: int = 1600):  # type: ignore[no-untyped-def]
    return chunk_document(load_bytes(name, text.encode()), max_chars)


def test_heading_paths_spans_and_code_fences() -> None:
    chunks = chunks_of(DOC)
    got = [(c.heading, c.line_start, c.line_end) for c in chunks]
    assert got == [
        ("ZooKeeper 磁盘清理", 4, 6),
        ("ZooKeeper 磁盘清理 > 排查", 8, 13),
        ("ZooKeeper 磁盘清理 > 处理步骤 > 手工清理", 17, 19),
        ("ZooKeeper 磁盘清理 > Subsection", 24, 26),  # a setext "---" heading is level 2
    ]
    # the fenced "# ..." line stayed inside the checks section, and the front matter is not a chunk
    assert "# 这一行不是标题" in chunks[1].text
    assert all("owner: sre" not in c.text for c in chunks)
    assert {c.lang for c in chunks} == {"zh"}


def test_text_is_exactly_the_cited_lines() -> None:
    lines = DOC.splitlines()
    for chunk in chunks_of(DOC):
        assert chunk.text == "\n".join(lines[chunk.line_start - 1 : chunk.line_end])


def test_long_section_is_split_on_paragraph_boundaries_keeping_the_heading() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 40 for i in range(6)]
    text = "# Runbook\n\n## Remediation\n\n" + "\n\n".join(paragraphs) + "\n"
    chunks = chunks_of(text, "r.en.md", max_chars=500)
    assert len(chunks) > 2
    assert {c.heading for c in chunks} == {"Runbook > Remediation"}
    lines = text.splitlines()
    for chunk in chunks:
        assert len(chunk.text) <= 500 + 300  # a single paragraph may exceed the budget, never by a whole one
        assert chunk.text == "\n".join(lines[chunk.line_start - 1 : chunk.line_end])
        assert chunk.text.splitlines()[-1].startswith("Paragraph") or chunk.text.endswith("word ")
    # consecutive pieces do not overlap and leave nothing but blank lines between them
    for a, b in itertools.pairwise(chunks):
        assert a.line_end < b.line_start
        assert all(not ln.strip() for ln in lines[a.line_end : b.line_start - 1])
    assert chunks[0].text.startswith("## Remediation")


def test_language_from_name_or_text() -> None:
    assert chunks_of("# T\n\nplain english words here\n", "notes.md")[0].lang == "en"
    assert chunks_of("# 标题\n\n这是一段中文说明文字。\n", "notes.md")[0].lang == "zh"
    assert chunks_of("# T\n\nbody\n", "runbook.zh.md")[0].lang == "zh"
