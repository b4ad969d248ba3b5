"""``steadyops kb``: add documents to the knowledge base and search it, with citations.

One client path: ``add``, ``search``, ``list`` and ``remove`` talk to the server's
``/api/v1/kb`` with your token, so a document added here is in the server's knowledge base at once
(and searching asks the knowledge base the agent uses). ``--local`` works on this machine's data
directory instead, for a laptop with no server (searching the built-in runbooks offline); it says
so, and a server elsewhere does not see what it adds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from steadyops.cli.common import call, fail, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, fmt_time, render_table
from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import t as msg
from steadyops.knowledge import KnowledgeStore, builtin_runbooks, open_knowledge_base

app = typer.Typer(help="Knowledge base: runbooks and your documents. / 知识库：运维手册与自有文档。",
                  no_args_is_help=True)

DocLang = Literal["auto", "zh", "en", "any"]
LocalOpt = Annotated[bool, typer.Option("--local", help="this machine's data dir, without the server / 离线")]
#: the upload's Content-Type per detected format (see api/kb.py)
MEDIA = {"markdown": "text/markdown", "text": "text/plain", "html": "text/html", "pdf": "application/pdf"}


@dataclass
class Hit:
    """A passage as the API returns it (and as ``Passage.to_dict`` gives it locally)."""

    source: str
    heading: str
    line_start: int
    line_end: int
    score: float
    citation: str
    text: str
    page: int | None = None
    lang: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Hit:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def _store() -> KnowledgeStore:
    return KnowledgeStore(state.settings().data_dir / "kb")


def _announce_local() -> None:
    typer.echo(msg("auth.local_mode", state.lang, data_dir=state.settings().data_dir), err=True)


def _snippet(text: str) -> str:
    """The first line of body text, skipping the heading line, for the table view."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    body = [ln for ln in lines if not ln.startswith("#")] or lines
    return body[0] if body else ""


def _upload(name: str, file: Path) -> tuple[dict[str, Any], int]:
    from steadyops.knowledge.loaders import detect_format

    data = file.read_bytes()
    try:
        fmt = detect_format(name, data)
    except SteadyOpsError as exc:
        fail(str(exc))
    doc = call("POST", "/api/v1/kb/documents", params={"name": name}, content=data,
               headers={"content-type": MEDIA[fmt]})
    return doc, int(doc.get("passages") or 0)


@app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="file or directory (.md .txt .html .pdf) / 文件或目录")],
    name: Annotated[str, typer.Option("--name", help="name shown in citations (single file) / 引用时显示的名称")] = "",
    fmt: FormatOption = OutputFormat.TABLE,
    local: LocalOpt = False,
) -> None:
    """Add documents to the server's knowledge base (``--local``: this data dir). / 添加文档到知识库。"""
    from steadyops.knowledge.base import iter_files

    lang = state.lang
    if not path.exists():
        fail(msg("kb.not_found", lang, path=path))
    if name and path.is_dir():
        fail(msg("kb.name_single", lang))
    rows: list[tuple[dict[str, Any], int]] = []
    where: object = state.server()
    try:
        files = [(name, path)] if name else list(iter_files(path))
        if not files:
            fail(msg("kb.not_found", lang, path=path))
        if local:
            _announce_local()
            store = _store()
            where = store.root
            for doc_name, file in files:
                entry, n = store.add_bytes(doc_name, file.read_bytes(), origin=str(file.resolve()))
                rows.append(({"name": entry.name, "bytes": entry.bytes, "sha256": entry.sha256,
                              "format": entry.format}, n))
        else:
            rows = [_upload(doc_name, file) for doc_name, file in files]
    except (SteadyOpsError, OSError) as exc:
        fail(str(exc))
    if fmt is OutputFormat.JSON:
        echo_json([{"name": d["name"], "passages": n, "bytes": d["bytes"], "sha256": d["sha256"],
                    "format": d["format"]} for d, n in rows])
        return
    for doc, passages in rows:
        typer.echo(msg("kb.added", lang, name=doc["name"], passages=passages))
    typer.echo(msg("kb.added_local" if local else "kb.added_remote", lang, count=len(rows), path=where))


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help='e.g. "zk 磁盘满了怎么清理" / 问题')],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=50, help="how many passages / 返回条数")] = 5,
    doc_lang: Annotated[str, typer.Option("--doc-lang", help="auto, zh, en or any / 文档语言")] = "auto",
    full: Annotated[bool, typer.Option("--full", help="print each passage's text / 显示全文")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
    local: LocalOpt = False,
) -> None:
    """Search runbooks and your documents; every hit cites file, section and lines. / 检索知识库。"""
    lang = state.lang
    if doc_lang not in ("auto", "zh", "en", "any"):
        fail(f"--doc-lang: {doc_lang!r} (auto | zh | en | any)")
    if local:
        _announce_local()
        try:
            kb = open_knowledge_base(state.settings().data_dir)
            passages = [Hit.of(p.to_dict()) for p in kb.search(query, k, lang=doc_lang)]
        except SteadyOpsError as exc:
            fail(str(exc))
    else:
        found = call("GET", "/api/v1/kb/search", params={"q": query, "k": k, "lang": doc_lang})
        passages = [Hit.of(p) for p in found["passages"]]
    if fmt is OutputFormat.JSON:
        echo_json([asdict(p) for p in passages])
        return
    if not passages:
        typer.echo(msg("kb.no_results", lang))
        return
    headers = [msg(f"kb.col.{c}", lang) for c in ("rank", "score", "source", "lines", "heading", "snippet")]
    rows = [[str(i), f"{p.score:.2f}", p.source, f"{p.line_start}-{p.line_end}" + (f" p.{p.page}" if p.page else ""),
             p.heading, _snippet(p.text)] for i, p in enumerate(passages, start=1)]
    typer.echo(render_table(headers, rows, max_width=70))
    if full:
        for i, p in enumerate(passages, start=1):
            typer.echo(f"\n[{i}] {p.citation}  {p.heading}")
            typer.echo("\n".join("    " + line for line in p.text.splitlines()))


@app.command("list")
def list_documents(fmt: FormatOption = OutputFormat.TABLE, local: LocalOpt = False) -> None:
    """List your documents (built-in runbooks are always there). / 查看自有文档。"""
    lang = state.lang
    if local:
        _announce_local()
        try:
            docs = [asdict(d) for d in _store().documents()]
        except SteadyOpsError as exc:
            fail(str(exc))
        builtin = sum(1 for _ in builtin_runbooks())
    else:
        listed = call("GET", "/api/v1/kb/documents")
        docs, builtin = listed["documents"], listed["builtin_runbooks"]
    if fmt is OutputFormat.JSON:
        echo_json({"documents": docs, "builtin": builtin})
        return
    if not docs:
        typer.echo(msg("kb.no_documents", lang, count=builtin))
        return
    headers = [msg(f"kb.col.{c}", lang) for c in ("name", "format", "size", "added")]
    typer.echo(render_table(headers, [[d["name"], d["format"], str(d["bytes"]), fmt_time(d["added_at"])]
                                      for d in docs]))
    typer.echo(msg("kb.builtin_count", lang, count=builtin))


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="document name as listed / 文档名称")]) -> None:
    """Remove one of your documents from the server's knowledge base (admin). / 删除自有文档。"""
    removed = call("DELETE", "/api/v1/kb/documents", params={"name": name})
    typer.echo(msg("kb.removed", state.lang, name=removed["name"]))
