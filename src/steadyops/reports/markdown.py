"""Inspection report as Markdown: for chat robots, tickets and wikis, which all speak Markdown.

Charts become Unicode (status strips, ``▁▃█`` sparklines) because Markdown cannot carry SVG
everywhere it is pasted; plugin sections are fenced so their alignment survives any renderer.
"""

from __future__ import annotations

from datetime import tzinfo

from steadyops.core.i18n import Lang
from steadyops.reports.inspection import InspectionReport
from steadyops.reports.templating import render

TEMPLATE = "inspection.md.j2"


def render_markdown(report: InspectionReport, lang: Lang = "zh", *, tz: tzinfo | None = None) -> str:
    """Pure: the same report, language and zone always give the same text (times in ``tz``, UTC by default)."""
    return render(TEMPLATE, report, lang, tz)
