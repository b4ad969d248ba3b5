"""Parsers for MySQL / MariaDB answers: replica status rows (both vocabularies) and the
``LATEST DETECTED DEADLOCK`` section of ``SHOW ENGINE INNODB STATUS``.

Pure functions so they are unit-tested on captured real answers; the checks stay about verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def _first(row: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


@dataclass(frozen=True)
class ReplicaState:
    """One replication channel, whatever the server calls its columns (Slave_* / Replica_* / *_Source)."""

    channel: str
    source: str
    io_running: str  # Yes / No / Connecting / Preparing
    sql_running: str
    seconds_behind: float | None  # None: NULL, the server cannot tell (SQL thread stopped, IO reconnecting)
    last_io_error: str
    last_sql_error: str

    @property
    def io_ok(self) -> bool:
        return self.io_running.lower() == "yes"

    @property
    def sql_ok(self) -> bool:
        return self.sql_running.lower() == "yes"

    def describe(self) -> str:
        lag = "NULL" if self.seconds_behind is None else f"{self.seconds_behind:g}s"
        name = f"channel {self.channel!r} " if self.channel else ""
        return f"{name}from {self.source}: IO={self.io_running} SQL={self.sql_running} behind={lag}"


def replica_state(row: dict[str, Any]) -> ReplicaState:
    """Normalise a SHOW SLAVE / REPLICA / ALL SLAVES STATUS row."""
    host = _first(row, "Master_Host", "Source_Host") or "?"
    port = _first(row, "Master_Port", "Source_Port") or "?"
    behind = _first(row, "Seconds_Behind_Master", "Seconds_Behind_Source")
    return ReplicaState(
        channel=str(_first(row, "Connection_name", "Channel_Name") or ""),
        source=f"{host}:{port}",
        io_running=str(_first(row, "Slave_IO_Running", "Replica_IO_Running") or "No"),
        sql_running=str(_first(row, "Slave_SQL_Running", "Replica_SQL_Running") or "No"),
        seconds_behind=None if behind is None or behind == "" else float(behind),
        last_io_error=str(row.get("Last_IO_Error") or "")[:300],
        last_sql_error=str(row.get("Last_SQL_Error") or "")[:300],
    )


_DEADLOCK = re.compile(r"-+\s*\nLATEST DETECTED DEADLOCK\s*\n-+\s*\n(.*?)(?:\n-{4,}\s*\n[A-Z][A-Z /]+\n-{4,}|\Z)",
                       re.DOTALL)
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}:\d{2})")
_COMPACT_STAMP = re.compile(r"^(\d{6})\s+(\d{1,2}:\d{2}:\d{2})")  # MySQL 5.5 style: 240102 10:11:12


@dataclass(frozen=True)
class Deadlock:
    at: datetime | None  # server local time, as the server prints it
    text: str


def latest_deadlock(innodb_status: str) -> Deadlock | None:
    """The latest deadlock in ``SHOW ENGINE INNODB STATUS`` text, or ``None`` if none since start."""
    match = _DEADLOCK.search(innodb_status)
    if match is None:
        return None
    body = match.group(1).strip()
    first_line = body.splitlines()[0] if body else ""
    at: datetime | None = None
    stamp = _STAMP.search(first_line)
    if stamp:
        at = datetime.fromisoformat(stamp.group(1).replace("T", " "))
    else:
        compact = _COMPACT_STAMP.search(first_line)
        if compact:
            at = datetime.strptime(f"{compact.group(1)} {compact.group(2)}", "%y%m%d %H:%M:%S")
    return Deadlock(at, body)


def deadlock_digest(deadlock: Deadlock, limit: int = 600) -> str:
    """The victim line and the two statements, cut to ``limit``: enough to find the code path."""
    keep = [line.strip() for line in deadlock.text.splitlines()
            if line.startswith(("*** (", "*** WE ROLL BACK")) or line.lstrip().upper().startswith(
                ("UPDATE", "DELETE", "INSERT", "SELECT", "REPLACE"))]
    digest = " | ".join(keep) or deadlock.text
    return digest[:limit]
