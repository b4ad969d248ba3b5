"""User documents that persist under ``data_dir/kb/``, shared by the CLI and the server.

A document added with ``steadyops kb add`` (or uploaded through the API) is *copied* into
``kb/docs/`` and listed in ``kb/manifest.json``: the knowledge base must not change because a file
elsewhere moved or was edited, and a citation must keep pointing at the text that was indexed.
Parsed passages and their tokens are cached per content hash in ``kb/cache/`` (JSON, never pickle:
the data directory is not trusted to hold code), so a large PDF is parsed once, not at every start.

The manifest is replaced atomically under an advisory file lock, and a running server notices a
changed manifest on its next search (:func:`open_knowledge_base`), so ``kb add`` from a shell is
seen without a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steadyops.core.errors import NotFound, ValidationFailed
from steadyops.knowledge.base import MAX_FILE_BYTES, KnowledgeBase, Passage, builtin_runbooks, iter_files
from steadyops.knowledge.chunking import Chunk, chunk_document
from steadyops.knowledge.loaders import detect_format, load_bytes

CACHE_VERSION = 1
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f]|(^|/)\.\.?(/|$)")

try:  # POSIX only; elsewhere concurrent writers are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One manifest entry: the name citations use, where the copy lives, and its provenance."""

    name: str
    file: str
    sha256: str
    bytes: int
    format: str
    origin: str
    added_at: str


def check_name(name: str) -> str:
    """A document name: 1–200 printable characters, no ``.``/``..`` path segments."""
    name = name.strip().replace("\\", "/").lstrip("/")
    if not name or len(name) > 200 or _BAD_NAME.search(name):
        raise ValidationFailed(f"invalid document name {name!r}: use 1-200 printable characters, no '..'")
    if name.startswith("integrations/"):
        raise ValidationFailed(f"document name {name!r} is reserved for built-in runbooks")
    return name


class KnowledgeStore:
    """The persisted user documents of one data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest_path = root / "manifest.json"

    # -- manifest --------------------------------------------------------------------------------
    def stamp(self) -> tuple[int, int, int] | None:
        """Changes whenever the manifest is rewritten: it is replaced atomically, so a new inode."""
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def documents(self) -> list[StoredDocument]:
        try:
            raw = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ValidationFailed(f"{self.manifest_path} is unreadable: {exc}") from exc
        return [StoredDocument(**entry) for entry in raw.get("documents", [])]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _write_manifest(self, docs: list[StoredDocument]) -> None:
        payload = {"version": 1, "documents": [asdict(d) for d in sorted(docs, key=lambda d: d.name)]}
        _atomic_write(self.manifest_path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))

    # -- changes ---------------------------------------------------------------------------------
    def add_bytes(self, name: str, data: bytes, *, fmt: str | None = None, origin: str = "") -> tuple[
            StoredDocument, int]:
        """Store (or replace) one document; returns its entry and how many passages it gave.

        The document is parsed before anything is written, so a broken file leaves no trace.
        """
        name = check_name(name)
        if len(data) > MAX_FILE_BYTES:
            raise ValidationFailed(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        fmt = fmt or detect_format(name, data)
        chunks = chunk_document(load_bytes(name, data, fmt))
        if not chunks:
            raise ValidationFailed(f"{name} contains no text to index")
        digest = hashlib.sha256(data).hexdigest()
        suffix = {"markdown": ".md", "text": ".txt", "html": ".html", "pdf": ".pdf"}[fmt]
        entry = StoredDocument(name=name, file=f"docs/{digest[:24]}{suffix}", sha256=digest, bytes=len(data),
                               format=fmt, origin=origin, added_at=datetime.now(UTC).isoformat(timespec="seconds"))
        with self._locked():
            target = self.root / entry.file
            if not target.exists():
                _atomic_write(target, data)
            self._save_cache(entry, chunks, KnowledgeBase())
            docs = [d for d in self.documents() if d.name != name]
            self._write_manifest([*docs, entry])
            self._collect_garbage()
        return entry, len(chunks)

    def add_path(self, path: Path) -> list[tuple[StoredDocument, int]]:
        """Store a file, or every supported file under a directory."""
        files = list(iter_files(path))
        if not files:
            raise ValidationFailed(f"no supported documents under {path}")
        return [self.add_bytes(name, file.read_bytes(), origin=str(file.resolve())) for name, file in files]

    def remove(self, name: str) -> StoredDocument:
        with self._locked():
            docs = self.documents()
            found = next((d for d in docs if d.name == name), None)
            if found is None:
                raise NotFound(f"no document named {name!r} in the knowledge base")
            self._write_manifest([d for d in docs if d.name != name])
            self._collect_garbage()
        return found

    def _collect_garbage(self) -> None:
        """Delete copies and caches no manifest entry refers to any more."""
        live = {d.file for d in self.documents()}
        hashes = {d.sha256 for d in self.documents()}
        for file in (self.root / "docs").glob("*"):
            if f"docs/{file.name}" not in live:
                file.unlink(missing_ok=True)
        for file in (self.root / "cache").glob("*.json"):
            if file.name.split("-", 1)[0] not in hashes:
                file.unlink(missing_ok=True)

    # -- loading ---------------------------------------------------------------------------------
    def _cache_path(self, entry: StoredDocument, kb: KnowledgeBase) -> Path:
        """Keyed by content, name (it is in every passage), version and the indexing parameters."""
        name_hash = hashlib.sha1(entry.name.encode("utf-8")).hexdigest()[:8]
        params = f"v{CACHE_VERSION}-w{kb.heading_weight}-c{kb.max_chars}"
        return self.root / "cache" / f"{entry.sha256}-{name_hash}-{params}.json"

    def _save_cache(self, entry: StoredDocument, chunks: list[Chunk], kb: KnowledgeBase) -> None:
        rows = [{"chunk": asdict(c), "tokens": t} for c, t in zip(chunks, kb.tokens_for(chunks), strict=True)]
        _atomic_write(self._cache_path(entry, kb), json.dumps(rows, ensure_ascii=False).encode("utf-8"))

    def load_into(self, kb: KnowledgeBase, entry: StoredDocument) -> int:
        """Index one stored document, from the cache when it is valid, else by parsing the copy."""
        try:
            rows: list[dict[str, Any]] = json.loads(self._cache_path(entry, kb).read_text(encoding="utf-8"))
            chunks = [Chunk(**row["chunk"]) for row in rows]
            tokens = [[str(t) for t in row["tokens"]] for row in rows]
            if chunks and all(c.source == entry.name for c in chunks):
                return kb.add_chunks(chunks, tokens)
        except (OSError, ValueError, TypeError, KeyError):
            pass
        chunks = chunk_document(load_bytes(entry.name, (self.root / entry.file).read_bytes(), entry.format),
                                kb.max_chars)
        with contextlib.suppress(OSError):
            self._save_cache(entry, chunks, kb)
        return kb.add_chunks(chunks)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SyncedKnowledgeBase(KnowledgeBase):
    """Built-in runbooks plus a :class:`KnowledgeStore`, re-read when its manifest changes."""

    def __init__(self, store: KnowledgeStore, *, builtin: bool = True, runbooks: Sequence[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self._stamp: tuple[int, int, int] | None = None
        self._loaded: dict[str, str] = {}  # name -> sha256
        if builtin:
            self.add_builtin()
        self.add_plugin_runbooks(runbooks)
        self.sync()

    def sync(self) -> None:
        """Bring user documents in line with the manifest (cheap when nothing changed: one stat)."""
        stamp = self.store.stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            docs = {d.name: d for d in self.store.documents()}
            for name in [n for n in self._loaded if n not in docs]:
                self.remove(name)
                del self._loaded[name]
            for name, entry in docs.items():
                if self._loaded.get(name) != entry.sha256:
                    try:
                        self.store.load_into(self, entry)
                    except (OSError, ValidationFailed):
                        continue  # a copy deleted by hand: skip it rather than break every search
                    self._loaded[name] = entry.sha256
            self._stamp = stamp

    def search(self, query: str, k: int = 5, **kwargs: Any) -> list[Passage]:
        self.sync()
        return super().search(query, k, **kwargs)


def open_knowledge_base(data_dir: Path, *, builtin: bool = True, runbooks: Sequence[str] = (),
                        **kwargs: Any) -> SyncedKnowledgeBase:
    """The knowledge base of a data directory: built-in runbooks, the runbooks of the packages plugins
    registered (``runbooks``: ``registry.runbook_packages``) and ``data_dir/kb`` documents."""
    return SyncedKnowledgeBase(KnowledgeStore(Path(data_dir) / "kb"), builtin=builtin, runbooks=runbooks, **kwargs)


__all__ = ["KnowledgeStore", "StoredDocument", "SyncedKnowledgeBase", "builtin_runbooks", "open_knowledge_base"]
