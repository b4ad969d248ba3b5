"""The Collector contract: facts without a verdict. Every collector is also a read-only agent tool."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow


class Collector(ABC):
    name: ClassVar[str]
    target_kind: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    async def collect(self, target: Target) -> Snapshot:
        """Gather facts about ``target``; must not change anything."""


class GatheringCollector(Collector):
    """A collector that gathers one dict, where "could not ask" is an answer, not a crash.

    The agent reads ``{"ok": false, "layer": …, "error": …}`` as evidence (the API is down, the
    credential is wrong) instead of a tool failure, which is what an operator would also want to see.
    """

    #: the integration's own "could not ask" errors; each may carry a ``layer`` attribute
    unanswered: ClassVar[tuple[type[Exception], ...]] = ()

    async def collect(self, target: Target) -> Snapshot:
        try:
            data: dict[str, Any] = {"ok": True, **await self.gather(target)}
        except self.unanswered as exc:
            data = {"ok": False, "layer": getattr(exc, "layer", ""), "error": str(exc)}
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())

    @abstractmethod
    async def gather(self, target: Target) -> dict[str, Any]:
        """The facts, as a JSON-able dict."""
