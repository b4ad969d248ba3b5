"""Cut a document into passages along its headings, each with its heading path and line span.

A runbook is written as sections ("Checks", "Remediation", …) and an on-call engineer asks about one
of them, so the section is the natural unit of retrieval and of citation. The heading path
(``ZooKeeper 磁盘清理 > 处理步骤``) travels with every passage because a bare "Steps" means nothing out
of context. A section too long to read at a glance is split on paragraph boundaries (never inside a
code block), and each piece keeps the heading and its own exact line span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from steadyops.knowledge.loaders import Document, Line
from steadyops.knowledge.tokenize import guess_lang

DEFAULT_MAX_CHARS = 1600
HEADING_SEP = " > "
_LANG_IN_NAME = re.compile(r"[._-](zh|en)(?:[-_][a-z]{2})?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable passage. ``line_start``/``line_end`` are 1-based and inclusive."""

    source: str
    heading: str
    line_start: int
    line_end: int
    text: str
    lang: str | None = None
    page: int | None = None


def document_lang(doc: Document) -> str | None:
    """``zh``/``en`` from a name like ``x.zh.md`` or front matter, else guessed from the text."""
    meta_lang = doc.meta.get("lang") or doc.meta.get("language")
    if isinstance(meta_lang, str) and meta_lang[:2].lower() in ("zh", "en"):
        return meta_lang[:2].lower()
    stem = PurePosixPath(doc.source).name
    stem = stem[: stem.rfind(".")] if "." in stem else stem
    named = _LANG_IN_NAME.search(stem)
    if named:
        return named.group(1).lower()
    return guess_lang("\n".join(line.text for line in doc.lines[:400]))


def _sections(doc: Document) -> list[tuple[str, list[Line]]]:
    """(heading path, lines) per section, the heading line first when there is one."""
    stack: list[tuple[int, str]] = []
    sections: list[tuple[str, list[Line]]] = []
    current: list[Line] = []
    path = doc.title

    for line in doc.lines:
        if line.heading and not line.code:
            if current:
                sections.append((path, current))
            while stack and stack[-1][0] >= line.heading:
                stack.pop()
            stack.append((line.heading, line.title or doc.title))
            path = HEADING_SEP.join(title for _, title in stack)
            current = [line]
        else:
            current.append(line)
    if current:
        sections.append((path, current))
    return sections


def _paragraphs(lines: list[Line]) -> list[tuple[int, int]]:
    """Index ranges ``[start, end)`` of runs of lines separated by blank lines outside code blocks."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for index, line in enumerate(lines):
        if not line.text.strip() and not line.code:
            if start is not None:
                ranges.append((start, index))
                start = None
        elif start is None:
            start = index
    if start is not None:
        ranges.append((start, len(lines)))
    return ranges


def _size(lines: list[Line]) -> int:
    return sum(len(line.text) + 1 for line in lines)


def _pack(lines: list[Line], max_chars: int) -> list[list[Line]]:
    """Greedy packing of whole paragraphs (blank lines between them kept); a paragraph larger than
    the limit is cut between lines, unless it is a code block, which stays whole."""
    sizes = [len(line.text) + 1 for line in lines]
    pieces: list[tuple[int, int]] = []
    start, end, used = 0, 0, 0  # the open piece is lines[start:end], ``used`` characters

    def close(new_start: int) -> None:
        nonlocal start, used
        if end > start:
            pieces.append((start, end))
        start, used = new_start, 0

    for p_start, p_end in _paragraphs(lines):
        size = sum(sizes[p_start:p_end])
        gap = sum(sizes[end:p_start]) if end > start else 0
        if end > start and used + gap + size > max_chars:
            close(p_start)
        if end <= start:
            start = p_start
        if size > max_chars and not lines[p_start].code:
            for index in range(p_start, p_end):
                if end > start and used + sizes[index] > max_chars:
                    close(index)
                used += sizes[index]
                end = index + 1
            continue
        used += (sum(sizes[end:p_start]) if end > start else 0) + size
        end = p_end
    close(end)
    return [lines[a:b] for a, b in pieces]


def chunk_document(doc: Document, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Passages of a document; sections with nothing but a heading produce none."""
    lang = document_lang(doc)
    chunks: list[Chunk] = []
    for path, lines in _sections(doc):
        has_heading = bool(lines[0].heading) and not lines[0].code
        body = lines[1:] if has_heading else lines
        if not any(line.text.strip() for line in body):
            if has_heading and lines[0].inline:
                chunks.append(_chunk(doc, path, lines[:1], lang))
            continue
        ranges = _paragraphs(body)
        trimmed = body[ranges[0][0] : ranges[-1][1]]
        pieces = _pack(trimmed, max_chars) if _size(trimmed) > max_chars else [trimmed]
        if has_heading and pieces:
            pieces[0] = [*lines[: 1 + ranges[0][0]], *pieces[0]]  # the heading and the blank lines after it
        chunks.extend(_chunk(doc, path, piece, lang) for piece in pieces)
    return chunks


def _chunk(doc: Document, path: str, piece: list[Line], lang: str | None) -> Chunk:
    return Chunk(source=doc.source, heading=path, line_start=piece[0].number,
                 line_end=max(line.end for line in piece), text="\n".join(line.text for line in piece),
                 lang=lang, page=piece[0].page)
