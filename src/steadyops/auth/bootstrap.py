"""First start: an admin credential, so ``make run`` stays one command and the local CLI just works.

When the store holds no principal at all, an ``admin`` user and one token for it are created; the
token is printed once by ``serve`` and written to ``<data_dir>/admin.token`` (0600, in the 0700
data dir), where the CLI on this machine finds it. Nobody else can read it; anyone who can is
already this machine's operator. Later starts find the principal and create nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from steadyops.auth import identities
from steadyops.auth.roles import Role
from steadyops.core.clock import Clock
from steadyops.store import Store

TOKEN_FILE = "admin.token"
ADMIN = "admin"


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, from the first byte (no chmod window)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    os.replace(tmp, path)


def ensure_admin(store: Store, clock: Clock, data_dir: Path) -> str | None:
    """Create the first admin and its token when the store has no principal; return the token then."""
    with store.transaction() as s:
        if identities.count_principals(s) > 0:
            return None
        admin = identities.create_principal(s, ADMIN, "user", Role.ADMIN, clock.now())
        issued = identities.issue_token(s, admin, clock.now(), name="first-start admin token (local CLI)")
    write_secret(token_path(data_dir), issued.secret)
    return issued.secret


def read_local_token(data_dir: Path) -> str | None:
    path = token_path(data_dir)
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
