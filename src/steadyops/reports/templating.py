"""The Jinja2 environment and the helpers every report template shares.

Templates ship as package data (``reports/templates/``) so operators can read and adapt them
without touching Python. Helpers take the language explicitly, which keeps rendering a pure
function of (report, language, time zone): the same model gives the same bytes on any machine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from steadyops.core.i18n import MESSAGES, Lang, t
from steadyops.core.models import CheckStatus
from steadyops.core.summaries import in_lang as summary_in_lang
from steadyops.reports import charts
from steadyops.reports.inspection import ChangeKind, InspectionReport

CHANGE_ORDER = (ChangeKind.NEW_FAILURE, ChangeKind.CHANGED, ChangeKind.RECOVERED, ChangeKind.STILL_FAILING,
                ChangeKind.GONE)


@functools.cache
def environment(html: bool) -> Environment:
    return Environment(loader=PackageLoader("steadyops.reports", "templates"), autoescape=html,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)


def md_cell(value: object, limit: int = 200) -> str:
    """One Markdown table cell: no pipes or line breaks may leak out of it."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # quoted, never live HTML
    return text.replace("\\", "\\\\").replace("|", "\\|")


def first_line(value: object, limit: int = 300) -> str:
    lines = str(value).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_url(value: str | None) -> bool:
    return bool(value) and str(value).startswith(("https://", "http://"))


def runbook_for(path: str, lang: Lang) -> str:
    """Runbooks ship as ``name.en.md`` and ``name.zh.md`` side by side; show the reader's language."""
    if lang == "zh" and path.endswith(".en.md") and not is_url(path):
        return path[: -len(".en.md")] + ".zh.md"
    return path


def context(report: InspectionReport, lang: Lang, tz: tzinfo | None) -> dict[str, Any]:
    zone = tz or UTC

    def _(key: str, **kwargs: object) -> str:
        return t(key, lang, **kwargs)

    def label(prefix: str, value: str) -> str:
        key = f"{prefix}.{value}"
        return t(key, lang) if key in MESSAGES else value

    def fmt_time(value: datetime | None) -> str:
        if value is None:
            return "-"
        local = value.astimezone(zone)
        return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")

    def status_label(status: CheckStatus | str | None) -> str:
        return label("check.status", str(status)) if status is not None else "-"

    status_labels = {s.value: status_label(s) for s in CheckStatus}

    def counts_line(counts: Mapping[str, int]) -> str:
        return " · ".join(f"{status_labels[k]} {counts.get(k, 0)}" for k in charts.ORDER)

    def scope_text(scope: Mapping[str, Any]) -> str:
        parts = [f"{name}={','.join(map(str, values))}" for name, values in scope.items()
                 if values and isinstance(values, list)]
        parts += [f"{name}={value}" for name, value in scope.items() if value and not isinstance(value, list)]
        return "; ".join(parts) or _("report.scope_all")

    helpers: dict[str, Callable[..., Any]] = {
        "_": _, "fmt_time": fmt_time, "status_label": status_label, "counts_line": counts_line,
        "scope_text": scope_text, "layer_label": lambda v: label("report.layer", v) if v else "-",
        "fmt_number": charts.fmt_number, "md_cell": md_cell, "first_line": first_line, "is_url": is_url,
        "runbook": lambda p: runbook_for(p, lang), "summary": lambda text: summary_in_lang(text, lang),
        "glyph": lambda s: charts.STATUS_GLYPHS[str(s)],
        "text_sparkline": charts.text_sparkline,
        "text_strip": lambda statuses: charts.text_strip(statuses) if statuses else "-",
        "status_bar": lambda counts: charts.status_bar(counts, status_labels),
        "kind_bars": lambda kinds: charts.kind_bars([(k.kind, k.counts) for k in kinds], status_labels),
        "status_strip": lambda statuses: charts.status_strip(statuses, status_labels) if statuses else "-",
        "sparkline": lambda s: charts.sparkline(s.values, status=s.status.value),
    }
    return {"report": report, "r": report, "lang": lang, "colon": "：" if lang == "zh" else ": ",
            "change_kinds": [c.value for c in CHANGE_ORDER], "colours": charts.COLOURS, "status_order": charts.ORDER,
            **helpers}


def render(template: str, report: InspectionReport, lang: Lang, tz: tzinfo | None) -> str:
    html = template.endswith(".html.j2")
    return environment(html).get_template(template).render(context(report, lang, tz))
