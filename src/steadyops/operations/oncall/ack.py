"""Signed acknowledgement links: "I'm on it" from the notification itself, without logging in.

The link carries the incident, the person it was sent to and an expiry, signed with HMAC-SHA256
under a key kept in the data directory (created 0600 on first use, never sent anywhere). Opening
the link shows a confirmation page; only its POST acknowledges, because chat clients and mail
scanners fetch links on their own and must not acknowledge anything by looking.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from steadyops.core.errors import Refused

KEY_FILE = "oncall-ack.key"


def load_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


def _mac(key: bytes, incident_id: int, user: str, expires: int) -> str:
    msg = f"ack\n{incident_id}\n{user}\n{expires}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def sign(key: bytes, base_url: str, incident_id: int, user: str, expires: datetime) -> str:
    exp = int(expires.timestamp())
    query = urlencode({"incident": incident_id, "user": user, "exp": exp, "sig": _mac(key, incident_id, user, exp)})
    return f"{base_url.rstrip('/')}/api/v1/oncall/ack?{query}"


def verify(key: bytes, incident_id: int, user: str, expires: int, signature: str, now: datetime) -> None:
    """Raises :class:`Refused` for a bad signature or an expired link (403, nothing changed)."""
    # bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, i.e. a 500)
    if not hmac.compare_digest(_mac(key, incident_id, user, expires).encode(),
                               signature.encode("utf-8", "surrogatepass")):
        raise Refused("the acknowledgement link is not valid (bad signature)")
    if now.timestamp() >= expires:
        raise Refused("the acknowledgement link has expired; acknowledge in the console or CLI")
