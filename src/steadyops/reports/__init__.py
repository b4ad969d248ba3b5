"""Reports: inspection reports as a model, rendered to Markdown and to one self-contained HTML file.

``load_report(store, run_id)`` assembles a run's report (with the diff against the previous run of
the same scope and the history trends); ``render_markdown`` / ``render_html`` format it; ``render``
picks by name for callers that take a ``--format`` or ``?format=``.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Literal

from steadyops.core.i18n import Lang
from steadyops.reports.history import RunSummary, load_report, recent_runs, result_history
from steadyops.reports.html import render_html
from steadyops.reports.inspection import Diff, InspectionReport, build_report, diff_runs, exit_code
from steadyops.reports.markdown import render_markdown
from steadyops.reports.scope import Scope, ScopeError, resolve_scope

ReportFormat = Literal["md", "html", "json"]

MEDIA_TYPES: dict[str, str] = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
                               "json": "application/json"}


def render(report: InspectionReport, fmt: ReportFormat | str, lang: Lang = "zh", *, tz: tzinfo | None = None) -> str:
    """``md``, ``html`` or ``json`` by name, for callers that take the format from a flag or a query."""
    if fmt == "md":
        return render_markdown(report, lang, tz=tz)
    if fmt == "html":
        return render_html(report, lang, tz=tz)
    if fmt == "json":
        return json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2)
    raise ValueError(f"unknown report format {fmt!r}; use md, html or json")


__all__ = ["MEDIA_TYPES", "Diff", "InspectionReport", "ReportFormat", "RunSummary", "Scope", "ScopeError",
           "build_report", "diff_runs", "exit_code", "load_report", "recent_runs", "render", "render_html",
           "render_markdown", "resolve_scope", "result_history"]
