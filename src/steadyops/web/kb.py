"""The knowledge base in the console: search with the matching words highlighted and the citation
(file and line span) shown, and document upload for admins."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from steadyops.api.kb import audit_document
from steadyops.auth import Principal
from steadyops.core.errors import PayloadTooLarge, ValidationFailed
from steadyops.knowledge.store import KnowledgeStore
from steadyops.knowledge.tokenize import chinese_tokens
from steadyops.web.messages import tr
from steadyops.web.render import render
from steadyops.web.session import admin, app_of, checked_form, lang_of, viewer

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 10 * 1024 * 1024
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[A-Za-z0-9_.\-]{2,}")


def terms(query: str) -> list[str]:
    found = {w.lower() for w in _WORD.findall(query)}
    for run in _CJK.findall(query):
        found.update(t for t in chinese_tokens(run) if len(t) >= 2)
    return sorted(found, key=len, reverse=True)


def highlight(text: str, words: list[str]) -> Markup:
    """Escape first, then mark: passage text is untrusted and must never become markup."""
    safe = str(escape(text))
    if not words:
        return Markup(safe)
    pattern = re.compile("|".join(re.escape(str(escape(w))) for w in words), re.IGNORECASE)
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", safe))


@router.get("/kb", response_class=HTMLResponse)
def kb_page(request: Request, me: Annotated[Principal, Depends(viewer)], q: str = "") -> HTMLResponse:
    app = app_of(request)
    lang = lang_of(request)
    hits = []
    q = q.strip()[:1000]
    if q:
        words = terms(q)
        for p in app.knowledge.search(q, 8, lang="auto"):
            hits.append({"citation": p.citation, "heading": p.heading, "score": p.score,
                         "html": highlight(p.text[:1200], words)})
    docs = KnowledgeStore(app.settings.data_dir / "kb").documents()
    return render(request, "kb.html.j2", lang=lang, q=q, hits=hits, docs=docs, flash=None)


@router.post("/kb/upload", response_class=HTMLResponse, dependencies=[Depends(checked_form)])
async def upload(request: Request, me: Annotated[Principal, Depends(admin)], document: Annotated[UploadFile, File()],
                 name: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    app = app_of(request)
    lang = lang_of(request)
    data = await document.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise PayloadTooLarge(f"the document is larger than {MAX_UPLOAD} bytes")
    doc_name = (name or document.filename or "").strip()
    if not doc_name or not data.strip():
        raise ValidationFailed(tr("kb.upload_empty", lang))
    entry, passages = await run_in_threadpool(KnowledgeStore(app.settings.data_dir / "kb").add_bytes, doc_name,
                                              data, origin="console")
    await run_in_threadpool(audit_document, app, me, "kb_document_added", entry.name, {"passages": passages})
    return render(request, "kb.html.j2", lang=lang, q="", hits=[],
                  docs=KnowledgeStore(app.settings.data_dir / "kb").documents(),
                  flash=tr("kb.uploaded", lang, name=entry.name, n=passages))
