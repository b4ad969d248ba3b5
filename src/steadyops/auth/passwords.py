"""Password hashing with argon2id (argon2-cffi), the OWASP first choice.

Why a library: parameters, salts, encoding and constant-time checks are easy to get subtly wrong,
and the encoded hash carries its own parameters so they can be raised later without a migration.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from steadyops.core.errors import ValidationFailed

_hasher = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


@functools.cache
def _dummy() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong password."""
    return _hasher.hash("steadyops-no-such-user")


def verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
