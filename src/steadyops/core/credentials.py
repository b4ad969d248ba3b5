"""Resolve a credential *reference* (``env:NAME`` / ``file:/path``) to the secret, at the last moment.

The inventory only ever holds references so it can be committed and reviewed; the secret is read
when a check connects and is never stored on the target, logged or put into evidence. Every
integration goes through :func:`resolve_secret` so there is exactly one place that knows the
reference syntax and one error (:class:`CredentialError`, a :class:`~steadyops.core.errors.ConfigError`)
a check turns into an ``UNKNOWN`` finding in the ``config`` layer.
"""

from __future__ import annotations

import os
from pathlib import Path

from steadyops.core.errors import ConfigError

__all__ = ["CredentialError", "resolve_secret"]

#: a secret file is a password or a token, never a data file; refuse to slurp anything bigger
MAX_SECRET_BYTES = 64 * 1024


class CredentialError(ConfigError):
    """A credential reference is malformed or points at nothing. The message never holds the secret."""


def resolve_secret(ref: str | None) -> str | None:
    """The secret ``ref`` points at, or ``None`` when there is no reference.

    ``env:NAME`` reads the environment variable ``NAME``; ``file:/path`` reads the file and drops
    one trailing newline (``echo secret > file`` writes one, and no password ends in one). An
    empty secret is allowed (a local Redis without a password), a missing one is not.
    """
    if ref is None or ref == "":
        return None
    scheme, sep, rest = ref.partition(":")
    if not sep or not rest or scheme not in ("env", "file"):
        # never echo the text: a password pasted where a reference belongs must not reach a log
        raise CredentialError("a credential must be a reference, env:NAME or file:/path (got something else)")
    if scheme == "env":
        value = os.environ.get(rest)
        if value is None:
            raise CredentialError(f"credential reference env:{rest}: the environment variable is not set")
        return value
    path = Path(rest).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_SECRET_BYTES:
            raise CredentialError(f"credential reference file:{rest}: {size} bytes is too big for a secret")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialError(f"credential reference file:{rest}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise CredentialError(f"credential reference file:{rest}: not UTF-8 text") from None
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text
