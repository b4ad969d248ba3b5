"""What flows between stages: a batch of alerts and the context of one pipeline run.

Stages run inside one database transaction on a worker thread, so they are plain functions over a
Session: a crash between stages rolls the whole batch back and the journal replays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from steadyops.config import Settings
from steadyops.inventory import Inventory
from steadyops.models import Alert


@dataclass
class AlertBatch:
    alerts: list[Alert]
    #: fingerprint -> ids of the silences / inhibitions muting it (filled by the mute stage)
    muted: dict[str, list[str]] = field(default_factory=dict)
    #: fingerprint -> group keys it joined (filled by the group stage)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.alerts)


@dataclass
class Context:
    session: Session
    now: datetime
    settings: Settings
    inventory: Inventory


class Stage(Protocol):
    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None: ...
