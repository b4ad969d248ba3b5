"""Inspection report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts.

One file with nothing to fetch is what survives being mailed, attached to a ticket or opened on an
air-gapped jump host; autoescaping is on, because summaries and evidence quote what remote
systems said and must never become markup.
"""

from __future__ import annotations

from datetime import tzinfo

from steadyops.core.i18n import Lang
from steadyops.reports.inspection import InspectionReport
from steadyops.reports.templating import render

TEMPLATE = "inspection.html.j2"


def render_html(report: InspectionReport, lang: Lang = "zh", *, tz: tzinfo | None = None) -> str:
    """Pure: the same report, language and zone always give the same document (times in ``tz``, UTC by default)."""
    return render(TEMPLATE, report, lang, tz)
