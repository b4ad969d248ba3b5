"""Log tools for the agent: search the configured log tails and summarise their templates.

A toolset of its own (not part of :class:`~steadyops.agent.tools.PlatformToolset`) because it only
exists when log sources are configured. Both tools are read-only: they read the tails that
:class:`~steadyops.sources.logs.LogSources` already holds. What they return is data; the agent loop
masks secrets in it and fences it as untrusted, so a log line that reads like an instruction stays
a log line. Reading runs in a worker thread so a first, cold read never stalls the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from steadyops.contracts.toolsets import Tool, Toolset
from steadyops.sources.logs import LogSources

__all__ = ["LogSearchParams", "LogTemplateParams", "LogToolset"]


class LogSearchParams(BaseModel):
    target: str | None = Field(default=None, description="inventory target whose logs to search; omit for all")
    pattern: str = Field(min_length=1, max_length=200,
                         description="case-insensitive regular expression, or plain text")
    limit: int = Field(default=20, ge=1, le=200, description="newest matching lines to return")
    minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60, description="only lines from the last N minutes")


class LogTemplateParams(BaseModel):
    target: str = Field(description="inventory target whose logs to summarise")
    minutes: int = Field(default=60, ge=1, le=7 * 24 * 60, description="window ending now")


class LogToolset(Toolset):
    """``search_logs`` and ``log_templates`` over the configured log sources."""

    def __init__(self, sources: LogSources, now: Callable[[], datetime] | None = None) -> None:
        self.sources = sources
        self.now = now or (lambda: datetime.fromtimestamp(sources.now(), UTC))

    async def _search(self, p: BaseModel) -> Any:
        assert isinstance(p, LogSearchParams)
        since = self.now() - timedelta(minutes=p.minutes) if p.minutes else None
        lines = await asyncio.to_thread(self.sources.search, p.target, p.pattern, since, p.limit)
        return [ln.to_dict() for ln in lines]

    async def _templates(self, p: BaseModel) -> Any:
        assert isinstance(p, LogTemplateParams)
        return await asyncio.to_thread(self.sources.template_summary, p.target, timedelta(minutes=p.minutes),
                                       self.now())

    def tools(self) -> Sequence[Tool]:
        targets = ", ".join(sorted(self.sources.targets()))
        return [
            Tool("search_logs", f"Search recent log lines (targets with logs: {targets}). Returns the newest "
                 "matching lines with file, line number and time.", LogSearchParams, self._search,
                 source="logs search"),
            Tool("log_templates", "Summarise a target's logs over the last N minutes as message templates: the "
                 "most frequent, the ones never seen before, and the ones whose rate spiked (score 0-1).",
                 LogTemplateParams, self._templates, source="logs templates"),
        ]
