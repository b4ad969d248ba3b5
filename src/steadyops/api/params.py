"""Shared request parameters: database ids bounded to what a row id can be.

Why a bound: an id past the column's range is not "not found" to the database driver but an
overflow (SQLite ``OverflowError``, PostgreSQL ``NumericValueOutOfRange``) — a 500. The ``serial``
columns are 32-bit on PostgreSQL, so anything outside ``1 … 2^31-1`` is refused up front with a 422
that names the range, and the OpenAPI document says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1

RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="Run number.")]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID, description="Incident number.")]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only rows of this incident.")]
