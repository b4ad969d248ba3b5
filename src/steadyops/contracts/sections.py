"""The report-section contract: what a plugin adds to every inspection report that concerns it.

A provider (``registry.add_report_section(key, provider)``) receives the report's findings and the
inventory and returns a :class:`ReportSection` in both languages, or None when it has nothing to
say about them; ZooKeeper's ``zk检测`` localisation is one. It reads, never changes anything, and
a provider that raises costs only its own section (the report says so), never the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from pydantic import BaseModel

from steadyops.core.inventory import Inventory
from steadyops.core.models import CheckStatus, Finding

__all__ = ["ReportSection", "SectionProvider"]


class ReportSection(BaseModel):
    """An extra, plugin-provided section (e.g. ZooKeeper localisation), prepared in both languages.

    Bodies are plain text that is also valid Markdown; renderers show them verbatim (HTML in a
    ``<pre>``), so a section provider never needs to know about the output format.
    """

    key: str
    status: CheckStatus | None = None
    title: dict[str, str]
    body: dict[str, str]
    data: dict[str, Any] | None = None


#: (findings of one inspection, the inventory or None) → a section, or None when it has nothing to say
SectionProvider: TypeAlias = Callable[[Sequence[Finding], Inventory | None], ReportSection | None]
