"""Render a period report: Markdown, one self-contained HTML file with inline SVG, a short chat form.

Every value that came from outside (titles, targets, alert names, authors) is escaped for the
format: Markdown cells through ``md_cell``, HTML through markupsafe. The HTML fetches nothing (no
script, no font, no CDN), so it opens on an air-gapped jump host and survives being mailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from steadyops.core.i18n import Lang, t
from steadyops.core.markup import untrusted
from steadyops.reports import charts
from steadyops.reports.periodic import SPANS, PeriodReport
from steadyops.reports.templating import md_cell


def fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    total = round(value)
    m, s = divmod(total, 60)
    h, m = divmod(m, 60)
    return (f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s")


def _when(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _title(r: PeriodReport, lang: Lang) -> str:
    last = r.end.astimezone(ZoneInfo(r.timezone))
    first = r.start.astimezone(ZoneInfo(r.timezone))
    span = first.date().isoformat() if r.period == "daily" else \
        f"{first.date().isoformat()} – {(last.date().fromordinal(last.date().toordinal() - 1)).isoformat()}"
    return t(f"report.{r.period}", lang, span=span)


def _met(value: bool | None) -> str:
    return "-" if value is None else ("✅" if value else "❌")


def _span_rows(r: PeriodReport, lang: Lang) -> list[list[str]]:
    return [[t(f"report.span.{s}", lang), fmt_s(r.mttx[s].mean_seconds), fmt_s(r.mttx[s].goal_seconds),
             f"{r.mttx[s].met}/{r.mttx[s].measured}"] for s in SPANS]


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out


def _sections(r: PeriodReport, lang: Lang) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(heading, table headers, rows, note when empty) per section, shared by Markdown and HTML."""
    z = r.timezone
    inc_rows = [[f"#{i.id}", i.title, t(f"severity.{i.severity}", lang), ", ".join(i.targets),
                 _when(i.opened_at, z),
                 *(f"{fmt_s(i.timings[s]['seconds'])} {_met(i.timings[s]['met'])}" for s in SPANS),
                 ", ".join(i.changes) or "-"] for i in r.incidents]
    slo_rows = [[s["slo_id"], f"{s['objective']:g}%", "-" if s["budget_remaining"] is None
                 else f"{s['budget_remaining'] * 100:.1f}%",
                 "-" if s["burn_rate"] is None else f"{s['burn_rate']:.2f}x", s.get("exhaustion_at") or "-",
                 t(f"slo.state.{s['state']}", lang)] for s in r.slos]
    chg_rows = [[_when(c.when, z), c.title, ", ".join(c.targets), c.author or "-", c.status,
                 ", ".join(f"#{i}" for i in c.incidents) or "-"] for c in r.changes]
    noisy = [[n.alertname, str(n.events)] for n in r.noisy_alerts]
    statuses = ("critical", "warning", "unknown", "ok")
    finding_rows = [[t(f"report.status.{s}", lang), str(r.findings.get(s, 0)), str(r.findings_previous.get(s, 0))]
                    for s in statuses]
    action_rows = [[str(a["id"]), a["action"], a["target"], a["status"], a["requested_by"]] for a in r.action_lines]
    return [
        (t("report.h.incidents", lang, n=len(r.incidents)),
         [t(k, lang) for k in ("col.id", "col.title", "col.severity", "report.col.where", "col.opened")]
         + [t(f"report.span.{s}", lang) for s in SPANS] + [t("report.col.changes", lang)],
         inc_rows, t("report.none", lang)),
        (t("report.h.mttx", lang),
         [t(k, lang) for k in ("report.col.span", "report.col.mean", "report.col.goal", "report.col.met")],
         _span_rows(r, lang), ""),
        (t("report.h.slo", lang), [t(k, lang) for k in ("slo.col.id", "slo.col.objective", "slo.col.remaining",
                                                          "slo.col.burn", "slo.col.exhaustion", "col.state")],
         slo_rows, r.slo_error or t("report.none", lang)),
        (t("report.h.changes", lang, n=len(r.changes), rate="-" if r.change_failure_rate is None
           else f"{r.change_failure_rate * 100:.0f}%"),
         [t(k, lang) for k in ("change.col.when", "col.title", "change.col.where", "change.col.who", "col.status",
                                "report.col.caused")], chg_rows, t("report.none", lang)),
        (t("report.h.noise", lang, received=r.alerts_received, out=r.notifications_out,
           ratio=f"{r.noise_reduction_ratio:.1f}"),
         [t("report.col.alertname", lang), t("report.col.events", lang)], noisy, t("report.none", lang)),
        (t("report.h.findings", lang, runs=r.inspections),
         [t(k, lang) for k in ("col.status", "report.col.this", "report.col.previous")], finding_rows, ""),
        (t("report.h.actions", lang, n=len(r.action_lines)),
         [t(k, lang) for k in ("col.id", "report.col.action", "report.col.where", "col.status",
                                "report.col.by")], action_rows, t("report.none", lang)),
    ]


def render_markdown(r: PeriodReport, lang: Lang) -> str:
    out = [f"# {_title(r, lang)}", "",
           t("report.period_generated", lang, at=_when(r.generated_at, r.timezone), zone=r.timezone), ""]
    for heading, headers, rows, empty in _sections(r, lang):
        out += [f"## {md_cell(heading)}", ""]
        out += _md_table(headers, rows) if rows else [empty]
        out.append("")
    if r.top_failing_checks:
        out += [f"**{t('report.top_failing', lang)}**: "
                + ", ".join(f"{md_cell(k)} ×{n}" for k, n in r.top_failing_checks), ""]
    return "\n".join(out)


def _bars(days: Sequence[tuple[str, int]], label: str, width: int = 480, height: int = 90) -> Markup:
    top = max((n for _d, n in days), default=0) or 1
    step = width / max(1, len(days))
    parts = []
    for i, (day, n) in enumerate(days):
        h = (height - 16) * n / top
        parts.append(f'<rect x="{i * step + 2:.1f}" y="{height - 14 - h:.1f}" width="{step - 4:.1f}" '
                     f'height="{h:.1f}" fill="#c62828"><title>{escape(day)}: {n}</title></rect>'
                     f'<text x="{i * step + step / 2:.1f}" y="{height - 2}" font-size="9" text-anchor="middle">'
                     f"{escape(day[5:])}</text>")
    return Markup(f'<svg role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>')


def _goal_bars(r: PeriodReport, lang: Lang, width: int = 480) -> Markup:
    """Each mean against its 1-5-10 goal: the bar is the mean, the black tick the goal."""
    bar, gap, label_w = 16, 8, 90
    parts = []
    scale = max([r.mttx[s].goal_seconds * 2 for s in SPANS] + [r.mttx[s].mean_seconds or 0 for s in SPANS])
    for i, s in enumerate(SPANS):
        y = i * (bar + gap)
        stats = r.mttx[s]
        span = width - label_w - 60
        w = span * min(1.0, (stats.mean_seconds or 0) / scale)
        colour = "#2e7d32" if stats.mean_seconds is not None and stats.mean_seconds <= stats.goal_seconds \
            else "#c62828"
        goal_x = label_w + span * stats.goal_seconds / scale
        parts.append(f'<text x="0" y="{y + bar - 4}" font-size="12">{escape(t(f"report.span.{s}", lang))}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}"/>'
                     f'<line x1="{goal_x:.1f}" x2="{goal_x:.1f}" y1="{y - 2}" y2="{y + bar + 2}" stroke="#000"/>'
                     f'<text x="{label_w + span + 6}" y="{y + bar - 4}" font-size="11">'
                     f"{escape(fmt_s(stats.mean_seconds))}</text>")
    height = 3 * (bar + gap)
    return Markup(f'<svg role="img" aria-label="1-5-10" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>')


_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:13px}th{background:#f5f5f5}"
        "h2{margin-top:1.6em;border-bottom:1px solid #eee}.muted{color:#777}")


def render_html(r: PeriodReport, lang: Lang) -> str:
    title = escape(_title(r, lang))
    generated = t("report.period_generated", lang, at=_when(r.generated_at, r.timezone), zone=r.timezone)
    out = [f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
           f"<title>{title}</title><style>{_CSS}</style></head><body><h1>{title}</h1>",
           f'<p class="muted">{escape(generated)}</p>',
           _bars(r.incidents_per_day, t("report.h.incidents", lang, n=len(r.incidents))),
           _goal_bars(r, lang),
           charts.status_bar(r.findings, {s: t(f"report.status.{s}", lang) for s in charts.ORDER})]
    for heading, headers, rows, empty in _sections(r, lang):
        out.append(f"<h2>{escape(heading)}</h2>")
        if not rows:
            out.append(f'<p class="muted">{escape(empty)}</p>' if empty else "")
            continue
        out.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(str(x) for x in out)


def render_short(r: PeriodReport, lang: Lang) -> tuple[str, str]:
    """(title, text) for a chat channel: the headline numbers only, a link-free few lines."""
    crit = r.incidents_by_severity.get("critical", 0)
    lines = [t("report.short.incidents", lang, n=len(r.incidents), critical=crit)]
    lines += [t("report.short.span", lang, span=t(f"report.span.{s}", lang), mean=fmt_s(r.mttx[s].mean_seconds),
                goal=fmt_s(r.mttx[s].goal_seconds), met=r.mttx[s].met, measured=r.mttx[s].measured) for s in SPANS]
    burning = [s["slo_id"] for s in r.slos if s["state"] in ("burning", "exhausted")]  # from our own specs
    if r.slos:
        lines.append(t("report.short.slo", lang, n=len(r.slos), burning=", ".join(burning) or "-"))
    lines.append(t("report.short.changes", lang, n=len(r.changes),
                   caused=sum(1 for c in r.changes if c.incidents)))
    top = untrusted(r.noisy_alerts[0].alertname) if r.noisy_alerts else "-"  # from outside: vendors escape it
    lines.append(t("report.short.noise", lang, ratio=f"{r.noise_reduction_ratio:.1f}", top=top))
    return _title(r, lang), "\n".join(lines)
