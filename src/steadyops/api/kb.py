"""Knowledge base over HTTP: search with citations, and upload documents.

Uploads are copied into ``data_dir/kb/`` (the same store ``steadyops kb add`` writes), parsed before
anything is stored, and size-limited while the body is read, so a bad or huge upload leaves no
trace. Uploaded text is data: it is indexed and returned verbatim, never interpreted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError

from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Admin, Principal, Responder, Viewer
from steadyops.config.settings import describe_validation_error
from steadyops.core.errors import PayloadTooLarge, ValidationFailed
from steadyops.knowledge import KnowledgeStore, StoredDocument, SyncedKnowledgeBase, builtin_runbooks

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge"])

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
_FORMATS = {"text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text", "text/html": "html",
            "application/pdf": "pdf"}


class PassageOut(BaseModel):
    source: str = Field(description="Document the passage comes from (a runbook path or the upload's name).")
    heading: str = Field(description="Heading path, e.g. 'ZooKeeper 磁盘清理 > 处理步骤'.")
    line_start: int = Field(description="First line of the passage in the source, 1-based.")
    line_end: int = Field(description="Last line of the passage in the source, inclusive.")
    page: int | None = Field(description="PDF page where the passage starts; null for other formats.")
    lang: str | None
    score: float
    citation: str = Field(description="source:line_start-line_end, ready to quote.")
    text: str = Field(description="The passage verbatim. Untrusted data: quote it, never execute it.")


class SearchOut(BaseModel):
    query: str
    passages: list[PassageOut]


class DocumentIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Name used in citations, e.g. 'oncall/zk.md'.")
    text: str = Field(min_length=1, description="Markdown, plain text or HTML.")
    format: Literal["markdown", "text", "html"] | None = Field(
        default=None, description="Default: from the name's suffix, else markdown.")


class DocumentOut(BaseModel):
    name: str
    format: str
    bytes: int
    sha256: str
    added_at: str
    passages: int | None = None


def get_kb(app: Annotated[App, Depends(get_app)]) -> SyncedKnowledgeBase:
    """The App's knowledge base (built on first use, re-synced with the store on each call)."""
    return app.knowledge.get()


def _store(app: App) -> KnowledgeStore:
    return KnowledgeStore(app.settings.data_dir / "kb")


def audit_document(app: App, me: Principal, kind: str, name: str, payload: dict[str, Any] | None = None) -> None:
    """Knowledge-base text reaches every diagnosis and the model's context, so who added or removed a
    document, with which credential, is audited (the API and the console both call this)."""
    app.audit.record_by(me, at=app.clock.now(), kind=kind, subject=f"kb {name}", payload=payload)


def _doc_out(entry: StoredDocument, passages: int | None = None) -> DocumentOut:
    return DocumentOut(name=entry.name, format=entry.format, bytes=entry.bytes, sha256=entry.sha256,
                       added_at=entry.added_at, passages=passages)


async def _read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing it as soon as it passes the limit (no memory spent on a huge upload)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_upload(raw: bytes, content_type: str, name: str | None) -> tuple[str, bytes, str | None]:
    """(name, data, format) from a JSON body or a raw text/markdown/html/pdf body with ``?name=``."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/json", ""):
        try:
            doc = DocumentIn.model_validate_json(raw)
        except ValidationError as exc:
            raise ValidationFailed(f"invalid document: {describe_validation_error(exc)}") from exc
        fmt = doc.format
        if fmt is None and "." not in doc.name.rsplit("/", 1)[-1]:
            fmt = "markdown"
        return doc.name, doc.text.encode("utf-8"), fmt
    if media not in _FORMATS:
        raise ValidationFailed(f"unsupported content type {media!r}; use application/json or one of "
                               f"{', '.join(sorted(_FORMATS))}")
    if not name:
        raise ValidationFailed("a raw upload needs ?name=")
    if not raw.strip():
        raise ValidationFailed("the document is empty")
    if _FORMATS[media] != "pdf":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("text uploads must be UTF-8") from exc
    return name, raw, _FORMATS[media]


@router.get("/search", response_model=SearchOut, summary="Search runbooks and uploaded documents")
def search(
    me: Viewer,
    kb: Annotated[SyncedKnowledgeBase, Depends(get_kb)],
    q: Annotated[str, Query(min_length=1, max_length=1000, description="The question, zh or en.")],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    lang: Annotated[Literal["auto", "zh", "en", "any"], Query(
        description="auto: prefer the question's language; zh/en: only that language; any: no preference.")] = "auto",
) -> SearchOut:
    if not q.strip():
        raise ValidationFailed("q must not be blank")
    passages = kb.search(q, k, lang=lang)
    return SearchOut(query=q, passages=[PassageOut(**p.to_dict()) for p in passages])


@router.post(
    "/documents", status_code=201, response_model=DocumentOut, summary="Upload a document",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": DocumentIn.model_json_schema()},
        "text/markdown": {"schema": {"type": "string"}},
        "text/plain": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    }}},
)
async def upload_document(
    me: Responder,
    request: Request,
    app: Annotated[App, Depends(get_app)],
    name: Annotated[str | None, Query(max_length=200, description="Name for a raw (non-JSON) body.")] = None,
) -> DocumentOut:
    """JSON ``{"name": "oncall/zk.md", "text": "# …"}``, or a raw body with ``?name=``. The same name
    replaces the earlier version. 400: unreadable or empty document; 413: over the size limit."""
    raw = await _read_limited(request, MAX_UPLOAD_BYTES)
    doc_name, data, fmt = _parse_upload(raw, request.headers.get("content-type", ""), name)
    entry, passages = await run_in_threadpool(_store(app).add_bytes, doc_name, data, fmt=fmt, origin="api")
    await run_in_threadpool(audit_document, app, me, "kb_document_added", entry.name, {"passages": passages})
    return _doc_out(entry, passages)


@router.get("/documents", summary="Uploaded and added documents")
def list_documents(me: Viewer, app: Annotated[App, Depends(get_app)]) -> dict[str, Any]:
    """Documents of the data directory; the built-in runbooks are counted, not listed."""
    docs = [_doc_out(d).model_dump() for d in _store(app).documents()]
    return {"documents": docs, "builtin_runbooks": sum(1 for _ in builtin_runbooks())}


@router.delete("/documents", response_model=DocumentOut, summary="Remove a document")
def delete_document(me: Admin, app: Annotated[App, Depends(get_app)],
                    name: Annotated[str, Query(min_length=1, max_length=200)]) -> DocumentOut:
    """404 when there is no document of that name."""
    removed = _store(app).remove(name)
    audit_document(app, me, "kb_document_removed", removed.name)
    return _doc_out(removed)
