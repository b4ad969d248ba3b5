"""``steadyops kb``: add documents to the knowledge base and search it, with citations.

These commands work on the local data directory, not through the API: searching runbooks must work
on a laptop with no server running, and a document added here is copied into ``data_dir/kb/`` where
a running server notices it on its next search (see :mod:`steadyops.knowledge.store`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import typer

from steadyops.cli.common import fail, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, fmt_time, render_table
from steadyops.errors import SteadyOpsError
from steadyops.i18n import t as msg
from steadyops.knowledge import KnowledgeStore, builtin_runbooks, open_knowledge_base

app = typer.Typer(help="Knowledge base: runbooks and your documents. / 知识库：运维手册与自有文档。",
                  no_args_is_help=True)

DocLang = Literal["auto", "zh", "en", "any"]


def _store() -> KnowledgeStore:
    return KnowledgeStore(state.settings().data_dir / "kb")


def _snippet(text: str) -> str:
    """The first line of body text, skipping the heading line, for the table view."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    body = [ln for ln in lines if not ln.startswith("#")] or lines
    return body[0] if body else ""


@app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="file or directory (.md .txt .html .pdf) / 文件或目录")],
    name: Annotated[str, typer.Option("--name", help="name shown in citations (single file) / 引用时显示的名称")] = "",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Copy documents into the knowledge base of the data directory. / 添加文档到知识库。"""
    lang = state.lang
    if not path.exists():
        fail(msg("kb.not_found", lang, path=path))
    if name and path.is_dir():
        fail(msg("kb.name_single", lang))
    store = _store()
    try:
        if name:
            results = [store.add_bytes(name, path.read_bytes(), origin=str(path.resolve()))]
        else:
            results = store.add_path(path)
    except (SteadyOpsError, OSError) as exc:
        fail(str(exc))
    if fmt is OutputFormat.JSON:
        echo_json([{"name": e.name, "passages": n, "bytes": e.bytes, "sha256": e.sha256, "format": e.format}
                   for e, n in results])
        return
    for entry, passages in results:
        typer.echo(msg("kb.added", lang, name=entry.name, passages=passages))
    typer.echo(msg("kb.added_total", lang, count=len(results), path=store.root))


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help='e.g. "zk 磁盘满了怎么清理" / 问题')],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=50, help="how many passages / 返回条数")] = 5,
    doc_lang: Annotated[str, typer.Option("--doc-lang", help="auto, zh, en or any / 文档语言")] = "auto",
    full: Annotated[bool, typer.Option("--full", help="print each passage's text / 显示全文")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Search runbooks and your documents; every hit cites file, section and lines. / 检索知识库。"""
    lang = state.lang
    if doc_lang not in ("auto", "zh", "en", "any"):
        fail(f"--doc-lang: {doc_lang!r} (auto | zh | en | any)")
    try:
        kb = open_knowledge_base(state.settings().data_dir)
        passages = kb.search(query, k, lang=doc_lang)
    except SteadyOpsError as exc:
        fail(str(exc))
    if fmt is OutputFormat.JSON:
        echo_json([p.to_dict() for p in passages])
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
def list_documents(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List your documents (built-in runbooks are always there). / 查看自有文档。"""
    lang = state.lang
    try:
        docs = _store().documents()
    except SteadyOpsError as exc:
        fail(str(exc))
    builtin = sum(1 for _ in builtin_runbooks())
    if fmt is OutputFormat.JSON:
        echo_json({"documents": [asdict(d) for d in docs], "builtin": builtin})
        return
    if not docs:
        typer.echo(msg("kb.no_documents", lang, count=builtin))
        return
    headers = [msg(f"kb.col.{c}", lang) for c in ("name", "format", "size", "added")]
    typer.echo(render_table(headers, [[d.name, d.format, str(d.bytes), fmt_time(d.added_at)] for d in docs]))
    typer.echo(msg("kb.builtin_count", lang, count=builtin))


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="document name as listed / 文档名称")]) -> None:
    """Remove one of your documents. / 删除自有文档。"""
    try:
        removed = _store().remove(name)
    except SteadyOpsError as exc:
        fail(str(exc))
    typer.echo(msg("kb.removed", state.lang, name=removed.name))

