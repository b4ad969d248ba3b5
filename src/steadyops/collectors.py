"""The Collector contract: facts without a verdict. Every collector is also a read-only agent tool."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from steadyops.inventory import Target
from steadyops.models import Snapshot


class Collector(ABC):
    name: ClassVar[str]
    target_kind: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    async def collect(self, target: Target) -> Snapshot:
        """Gather facts about ``target``; must not change anything."""
