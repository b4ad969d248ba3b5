"""Turn Markdown, plain text, HTML and PDF into one shape: numbered lines with heading marks.

Every format becomes a list of :class:`Line` carrying the line number in the *source* (or in the
extracted text, for PDF, together with the page), so a chunk built from them can be cited down to
its lines whatever the input was. Headings are recognised here, once per format, so the chunker
never re-parses text — a ``# foo`` inside an HTML paragraph stays a paragraph.

Documents are untrusted: nothing in them is evaluated. Front matter is read with ``yaml.safe_load``,
HTML is only tokenised (scripts and styles dropped), PDFs are only asked for their text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from steadyops.core.errors import ValidationFailed

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown")
TEXT_SUFFIXES = (".txt", ".text", ".rst", ".log")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$|^ {0,3}(#{1,6})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# Plain-text / PDF headings: 第一章 / 第二节 / 第十条, and short numbered titles such as "3.2 Rollback".
_ZH_HEADING = re.compile(r"^\s*第[一二三四五六七八九十百零〇\d]+([章节条])[\s　:：]*(.{0,40})$")
_NUM_HEADING = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2}){0,3})\.?[ \t　]+(\S.{0,60})$")
_SENTENCE_END = tuple("。．.!！?？;；:：")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a document: its display text, where it came from, and whether it is a heading."""

    text: str
    number: int
    heading: int = 0  # 1..6 for a heading line, 0 otherwise
    title: str = ""  # the heading's text (without markup) when ``heading`` is set
    code: bool = False  # inside a code block: never a heading, never a split point
    page: int | None = None
    last: int = 0  # last source line of this display line when it spans several (HTML); 0: same as number
    inline: bool = False  # a heading that is also content ("第三条 变更须……"): never an empty section

    @property
    def end(self) -> int:
        return self.last or self.number


@dataclass(slots=True)
class Document:
    """A parsed document: its lines plus what we know about it."""

    source: str
    lines: list[Line]
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def decode(data: bytes) -> str:
    """UTF-8 first (with or without BOM), then GB18030 for older Chinese documents, never failing."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _front_matter(lines: list[str]) -> tuple[dict[str, Any], int]:
    """YAML front matter (``---`` … ``---`` at the top): its mapping and how many lines it spans."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("\n".join(lines[1:end]))
            except yaml.YAMLError:
                return {}, 0
            return (meta if isinstance(meta, dict) else {}), end + 1
    return {}, 0


def parse_markdown(text: str) -> tuple[list[Line], dict[str, Any]]:
    """ATX and setext headings outside fenced code; front matter is skipped but keeps its numbers."""
    raw = text.splitlines()
    meta, skip = _front_matter(raw)
    out: list[Line] = []
    fence: str | None = None
    for index, line in enumerate(raw):
        number = index + 1
        if index < skip:
            continue
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            out.append(Line(line, number, code=True))
            continue
        if opened:
            fence = opened.group(1)
            out.append(Line(line, number, code=True))
            continue
        atx = _ATX.match(line)
        if atx:
            level = len(atx.group(1) or atx.group(3))
            out.append(Line(line, number, heading=level, title=(atx.group(2) or "").strip()))
            continue
        setext = _SETEXT.match(line)
        if setext and out and out[-1].text.strip() and not out[-1].heading and not out[-1].code \
                and (out[-1].number == number - 1):
            prev = out.pop()
            level = 1 if setext.group(1)[0] == "=" else 2
            out.append(Line(prev.text, prev.number, heading=level, title=prev.text.strip()))
            out.append(Line(line, number))
            continue
        out.append(Line(line, number))
    return out, meta


def _plain_heading(line: str, at_boundary: bool) -> tuple[int, str] | None:
    """Conservative heading guess for text without markup; a false positive only splits a chunk.

    ``第一章`` / ``第二节`` / ``第十条`` always count; a short numbered title (``3.2 Rollback``) only
    at a paragraph boundary (after a blank line, at a page start, or after a finished sentence —
    PDF text has no blank lines) and when it does not itself read like a sentence.
    """
    stripped = line.strip()
    if not stripped or len(stripped) > 64:
        return None
    zh = _ZH_HEADING.match(stripped)
    if zh:
        title = stripped if zh.group(1) != "条" else stripped[: stripped.index("条") + 1]
        return {"章": 1, "节": 2, "条": 3}[zh.group(1)], title
    num = _NUM_HEADING.match(stripped)
    if num and at_boundary and not stripped.endswith(_SENTENCE_END):
        return min(num.group(1).count(".") + 1, 6), stripped
    return None


def parse_text(text: str, page: int | None = None, first_number: int = 1) -> list[Line]:
    """Plain text lines; headings only where they look unmistakably like section titles."""
    out: list[Line] = []
    boundary = True
    for offset, line in enumerate(text.splitlines()):
        guess = _plain_heading(line, boundary)
        number = first_number + offset
        if guess:
            out.append(Line(line, number, heading=guess[0], title=guess[1], page=page,
                            inline=guess[1] != line.strip()))
        else:
            out.append(Line(line, number, page=page))
        stripped = line.strip()
        boundary = not stripped or stripped.endswith(_SENTENCE_END) or guess is not None
    return out


class _HTMLText(HTMLParser):
    """Collects text blocks with their source line; drops script/style/template content."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
    BLOCK = frozenset({"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "br",
                       "table", "tr", "ul", "ol", "dl", "dt", "dd", "blockquote", "hr", "form", "figure",
                       "figcaption", "details", "summary"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.title = ""
        self._buf: list[str] = []
        self._start = 0
        self._skip = 0
        self._in_title = False
        self._heading = 0
        self._pre = 0
        self._prefix = ""

    def _flush(self) -> None:
        text = "".join(self._buf)
        self._buf = []
        last = self.getpos()[0]
        if self._pre:
            for offset, part in enumerate(text.split("\n")):
                if part.strip():
                    self.lines.append(Line(part.rstrip(), self._start + offset, code=True))
            return
        text = " ".join(text.split())
        if not text:
            return
        last = max(last, self._start)
        if self._heading:
            self.lines.append(Line("#" * self._heading + " " + text, self._start, heading=self._heading,
                                   title=text, last=last))
        else:
            self.lines.append(Line(self._prefix + text, self._start, last=last))
        self._prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
            return
        if tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = int(tag[1])
        elif tag == "pre":
            self._flush()
            self._pre += 1
        elif tag == "li":
            self._flush()
            self._prefix = "- "
        elif tag in ("td", "th"):
            if not "".join(self._buf).strip():
                self._start = self.getpos()[0]
            self._buf.append(" | ")
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = 0
        elif tag == "pre":
            self._flush()
            self._pre = max(0, self._pre - 1)
        elif tag in self.BLOCK or tag == "li":
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        if not self._buf or not "".join(self._buf).strip():
            self._start = self.getpos()[0] + (data[: len(data) - len(data.lstrip("\n"))].count("\n")
                                              if not self._pre else 0)
        self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str) -> tuple[list[Line], str]:
    """Visible text of an HTML page as lines (headings marked), plus its ``<title>``."""
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    return parser.lines, " ".join(parser.title.split())


def parse_pdf(data: bytes) -> list[Line]:
    """Text of every page, numbered continuously; each line remembers its page for the citation."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationFailed(f"cannot read PDF: {exc}") from exc
    out: list[Line] = []
    for page_no, page_text in enumerate(pages, start=1):
        out.extend(parse_text(page_text, page=page_no, first_number=len(out) + 1))
    return out


def detect_format(name: str, data: bytes | None = None) -> str:
    """``markdown``, ``text``, ``html`` or ``pdf`` from the name's suffix (PDF also by its magic)."""
    suffix = Path(name).suffix.lower()
    if suffix in PDF_SUFFIXES or (data is not None and data[:5] == b"%PDF-"):
        return "pdf"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    raise ValidationFailed(
        f"unsupported document type {suffix or '(no suffix)'!r} for {name!r}; "
        f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
    )


def load_bytes(source: str, data: bytes, fmt: str | None = None) -> Document:
    """Parse one document given its name (used for citations and to pick the format)."""
    fmt = fmt or detect_format(source, data)
    title = ""
    meta: dict[str, Any] = {}
    if fmt == "pdf":
        lines = parse_pdf(data)
    elif fmt == "html":
        lines, title = parse_html(decode(data))
    elif fmt == "markdown":
        lines, meta = parse_markdown(decode(data))
        if isinstance(meta.get("title"), str):
            title = meta["title"]
    elif fmt == "text":
        lines = parse_text(decode(data))
    else:
        raise ValidationFailed(f"unknown document format {fmt!r}; use markdown, text, html or pdf")
    if not title and fmt in ("markdown", "html"):
        first = next((ln for ln in lines if ln.heading == 1), None)
        title = first.title if first else ""
    title = title or Path(source).stem
    return Document(source=source, lines=lines, title=title, meta=meta)


def load_file(path: Path, source: str | None = None) -> Document:
    """Read and parse a file; ``source`` (default: the path as given) is what citations show."""
    return load_bytes(source or str(path), path.read_bytes())
