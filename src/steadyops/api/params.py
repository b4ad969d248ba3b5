"""Shared request parameters: database ids bounded to what a row id can be.

Why a bound: an id past the column's range is not "not found" to the database driver but an
overflow (SQLite ``OverflowError``, PostgreSQL ``NumericValueOutOfRange``) — a 500. Ids are 64-bit
signed on both, so anything outside ``1 … 2^63-1`` is refused up front with a 422 that names the
range, and the OpenAPI document says so.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query

from steadyops.core.errors import ValidationFailed

MAX_ID = 2**63 - 1

RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="Run number.")]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID, description="Incident number.")]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only rows of this incident.")]

# -- keyset pagination ------------------------------------------------------------------------------
#: the response header carrying the cursor of the next page (absent on the last page)
NEXT_CURSOR = "X-Next-Cursor"
PAGED: dict[int | str, dict[str, Any]] = {200: {"headers": {NEXT_CURSOR: {
    "description": "pass as ?cursor= for the next page; absent on the last page", "schema": {"type": "string"}}}}}

IncidentCursor = Annotated[int | None, Query(ge=1, le=MAX_ID, description=f"the {NEXT_CURSOR} of the previous page")]
AlertCursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+={0,2}$",
                                          description=f"the {NEXT_CURSOR} of the previous page")]


def alert_cursor(updated_at: datetime, fingerprint: str) -> str:
    """Opaque to clients: the (updated_at, fingerprint) of a page's last alert."""
    raw = f"{updated_at.astimezone(UTC).isoformat()}|{fingerprint}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def parse_alert_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, fingerprint = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        when = datetime.fromisoformat(at)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("cursor is not one this server gave out (X-Next-Cursor)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), fingerprint
