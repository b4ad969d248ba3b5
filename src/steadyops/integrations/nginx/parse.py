"""Parse nginx's ``stub_status`` page and locate HTTP errors; pure functions, unit-tested on real text.

stub_status is four fixed lines (ngx_http_stub_status_module)::

    Active connections: 291
    server accepts handled requests
     16630948 16630948 31070465
    Reading: 6 Writing: 179 Waiting: 106

``accepts - handled`` is the number of connections nginx accepted and then dropped because
``worker_connections`` (or the fd limit) was exhausted — the one number on the page that is a
failure by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACTIVE = re.compile(r"Active connections:\s*(\d+)")
_COUNTERS = re.compile(r"server accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)")
_STATES = re.compile(r"Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)")


@dataclass(frozen=True)
class StubStatus:
    active: int
    accepts: int
    handled: int
    requests: int
    reading: int
    writing: int
    waiting: int

    @property
    def dropped(self) -> int:
        return max(0, self.accepts - self.handled)

    def as_dict(self) -> dict[str, int]:
        return {"active": self.active, "accepts": self.accepts, "handled": self.handled, "requests": self.requests,
                "reading": self.reading, "writing": self.writing, "waiting": self.waiting, "dropped": self.dropped}


def parse_stub_status(text: str) -> StubStatus:
    """The stub_status page → :class:`StubStatus`; ``ValueError`` if it is not one (e.g. an HTML page)."""
    active, counters, states = _ACTIVE.search(text), _COUNTERS.search(text), _STATES.search(text)
    if not (active and counters):
        raise ValueError(f"not an nginx stub_status page: {text[:120]!r}")
    reading, writing, waiting = (int(g) for g in states.groups()) if states else (0, 0, 0)
    accepts, handled, requests = (int(g) for g in counters.groups())
    return StubStatus(int(active.group(1)), accepts, handled, requests, reading, writing, waiting)
