"""Audit anchors: signed ``(seq, hash)`` checkpoints kept outside the database, and the key kept apart.

Why: a hash chain in a database proves nothing against whoever can rewrite the database. Cutting
the tail, deleting every row, or rebuilding the whole chain all leave a self-consistent chain
behind. So after every committed audit entry the head is appended to an anchor file (one signed JSON
line per checkpoint, sequence-numbered by the entry's ``seq``) that lives with the signing key, not
with the data, and optionally POSTed to a receiver elsewhere. ``verify`` then demands that every
anchored entry is still in the database with the anchored hash: a truncated, emptied or rebuilt log
no longer matches. The key is its own file (0600, in its own 0700 directory beside, not inside, the
data dir unless configured), so a copy of the database is not a copy of the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from steadyops.core.errors import ConfigError

log = logging.getLogger(__name__)
KEY_ENV = "STEADYOPS_AUDIT_KEY"


def default_key_dir(data_dir: Path) -> Path:
    """``<data_dir>-keys`` beside the data dir: not inside what a backup or copy of the data takes."""
    data = data_dir.absolute()
    return data.parent / f"{data.name}-keys"


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def load_key(data_dir: Path, key_file: Path | None = None) -> bytes:
    """The signing key: ``STEADYOPS_AUDIT_KEY``, else ``key_file`` (default ``<data_dir>-keys/audit.key``),
    created 0600 on first start. A key readable by group or others is refused; one left beside the
    database by an older version is moved out first (it still signs the old entries)."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode()
    path = key_file or default_key_dir(data_dir) / "audit.key"
    legacy = data_dir / "audit.key"
    if not path.exists() and legacy.exists():
        _private_dir(path.parent)
        shutil.move(str(legacy), str(path))
        path.chmod(0o600)
        log.warning("moved the audit key out of the data dir: %s -> %s", legacy, path)
    if not path.exists():
        _private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"audit key {path} is readable by others (mode {mode:04o}); chmod 600 it")
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"audit key in {path} is too short")
    return key.encode()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class AnchorCheck:
    problems: list[tuple[int, str]]
    last_seq: int | None  #: the newest anchored sequence number (None: nothing anchored yet)


class Anchor:
    """An append-only file of signed checkpoints, optionally mirrored to ``url``."""

    def __init__(self, path: Path, key: bytes, url: str = "", timeout: float = 3.0) -> None:
        self.path, self._key, self.url, self.timeout = path, key, url, timeout

    def _sign(self, body: dict[str, Any]) -> str:
        return hmac.new(self._key, b"anchor:" + _canonical(body), hashlib.sha256).hexdigest()

    def write(self, seq: int, digest: str) -> dict[str, Any]:
        """Append one checkpoint (fsync'd); push it if a URL is configured. Failures are logged, not raised:
        the entry is committed already, and the next one anchors the head again."""
        body: dict[str, Any] = {"seq": seq, "hash": digest, "at": datetime.now(UTC).isoformat()}
        body["signature"] = self._sign({k: body[k] for k in ("seq", "hash", "at")})
        line = json.dumps(body, sort_keys=True) + "\n"
        try:
            _private_dir(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            log.error("could not write the audit anchor %s: %s", self.path, exc)
        if self.url:
            try:
                httpx.post(self.url, content=line.encode(), timeout=self.timeout,
                           headers={"content-type": "application/json"}).raise_for_status()
            except httpx.HTTPError as exc:
                log.warning("could not push the audit anchor to %s: %s", self.url, exc)
        return body

    def read(self) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
        """Checkpoints with a valid signature, and a problem for each line without one."""
        if not self.path.exists():
            return [], []
        good: list[dict[str, Any]] = []
        problems: list[tuple[int, str]] = []
        for n, line in enumerate(self.path.read_text().splitlines(), 1):
            try:
                body = json.loads(line)
                seq = int(body["seq"])
                claimed: dict[str, Any] = {"seq": seq, "hash": str(body["hash"]), "at": str(body["at"])}
            except (ValueError, KeyError, TypeError):
                problems.append((0, f"anchor line {n} unreadable"))
                continue
            if not hmac.compare_digest(self._sign(claimed), str(body.get("signature", ""))):
                problems.append((seq, f"anchor line {n}: signature invalid (forged checkpoint)"))
                continue
            good.append(claimed)
        return good, problems

    def check(self, hashes: dict[int, str]) -> AnchorCheck:
        """Every anchored ``(seq, hash)`` must still be in the log (``hashes``: seq → hash from the database)."""
        anchors, problems = self.read()
        newest = max(hashes, default=0)
        for a in anchors:
            seq = a["seq"]
            if seq not in hashes:
                what = ("the log ends before this anchored entry (tail truncated or rows deleted)" if seq > newest
                        else "anchored entry missing (deleted)")
                problems.append((seq, what))
            elif not hmac.compare_digest(hashes[seq], a["hash"]):
                problems.append((seq, "entry differs from its anchor (log rewritten or re-signed)"))
        seen = sorted({(s, w) for s, w in problems})
        return AnchorCheck(problems=seen[:50] + ([(0, f"… {len(seen) - 50} more")] if len(seen) > 50 else []),
                           last_seq=max((a["seq"] for a in anchors), default=None))
