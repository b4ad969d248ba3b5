"""Tiny inline SVG (and Unicode) charts for reports: no JavaScript, no CDN, nothing to fetch.

A report is mailed, attached to tickets and opened on air-gapped jump hosts, so it must be one
file that renders anywhere. Hand-written SVG covers what an inspection report needs — a stacked
status bar, per-kind bars, a status strip per check and a sparkline per metric — in a few lines,
and every text that reaches the markup is escaped. The ``xmlns`` attribute is omitted on purpose:
inline SVG in HTML does not need it, and it would be the only ``http://`` in the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from steadyops.core.models import CheckStatus

COLOURS: dict[str, str] = {"ok": "#2e7d32", "warning": "#f9a825", "critical": "#c62828", "unknown": "#757575"}
ORDER = ("critical", "warning", "unknown", "ok")
SPARKS = "▁▂▃▄▅▆▇█"


def fmt_number(value: float) -> str:
    """Readable metric values: ``95.5``, ``1,048,576``, ``0.0123`` — never ``1.05e+06``."""
    if value != value:  # NaN
        return "NaN"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, body: str, label: str) -> Markup:
    return Markup(f'<svg role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}">{body}</svg>')


def status_bar(counts: Mapping[str, int], labels: Mapping[str, str], *, width: int = 480,
               height: int = 18) -> Markup:
    """One horizontal bar split by status, worst on the left, each part titled with its count."""
    total = sum(counts.get(k, 0) for k in ORDER)
    if not total:
        return _svg(width, height, f'<rect width="{width}" height="{height}" fill="#e0e0e0"/>', "-")
    parts, x = [], 0.0
    for key in ORDER:
        n = counts.get(key, 0)
        if not n:
            continue
        w = width * n / total
        parts.append(f'<rect x="{x:.2f}" width="{w:.2f}" height="{height}" fill="{COLOURS[key]}">'
                     f'<title>{escape(labels.get(key, key))}: {n}</title></rect>')
        x += w
    summary = ", ".join(f"{labels.get(k, k)} {counts.get(k, 0)}" for k in ORDER)
    return _svg(width, height, "".join(parts), summary)


def kind_bars(rows: Sequence[tuple[str, Mapping[str, int]]], labels: Mapping[str, str], *,
              width: int = 480, bar: int = 16, gap: int = 6, label_width: int = 110) -> Markup:
    """A stacked bar per kind, scaled to the kind with the most checks, kind name on the left."""
    longest = max((sum(c.values()) for _k, c in rows), default=0) or 1
    span = width - label_width - 40
    parts = []
    for i, (kind, counts) in enumerate(rows):
        y = i * (bar + gap)
        parts.append(f'<text x="0" y="{y + bar - 4}" font-size="12">{escape(kind)}</text>')
        x = float(label_width)
        for key in ORDER:
            n = counts.get(key, 0)
            if not n:
                continue
            w = span * n / longest
            parts.append(f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{bar}" fill="{COLOURS[key]}">'
                         f'<title>{escape(kind)} · {escape(labels.get(key, key))}: {n}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.2f}" y="{y + bar - 4}" font-size="11">{sum(counts.values())}</text>')
    height = max(bar, len(rows) * (bar + gap) - gap)
    return _svg(width, height, "".join(parts), ", ".join(k for k, _c in rows))


def status_strip(statuses: Sequence[CheckStatus], labels: Mapping[str, str], *, cell: int = 9,
                 gap: int = 2) -> Markup:
    """The last N results of one check as coloured squares, oldest left: flapping is visible at a glance."""
    parts = [f'<rect x="{i * (cell + gap)}" width="{cell}" height="{cell}" rx="1" fill="{COLOURS[s.value]}">'
             f'<title>{escape(labels.get(s.value, s.value))}</title></rect>' for i, s in enumerate(statuses)]
    width = max(cell, len(statuses) * (cell + gap) - gap)
    return _svg(width, cell, "".join(parts), " ".join(labels.get(s.value, s.value) for s in statuses))


def sparkline(values: Sequence[float], *, status: str = "ok", width: int = 160, height: int = 32,
              pad: int = 3) -> Markup:
    """A line over the values scaled to their own min..max, with the latest point marked."""
    if not values:
        return _svg(width, height, "", "-")
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / max(1, len(values) - 1)
    pts = [(pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad)) for i, v in enumerate(values)]
    if len(pts) == 1 or hi == lo:
        pts = [(x, height / 2) for x, _y in pts]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    colour = COLOURS.get(status, COLOURS["ok"]) if status != "ok" else "#1565c0"
    last_x, last_y = pts[-1]
    body = (f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{colour}"/>')
    return _svg(width, height, body, f"{fmt_number(lo)} … {fmt_number(hi)}, last {fmt_number(values[-1])}")


def text_sparkline(values: Sequence[float]) -> str:
    """The same trend in Unicode blocks, for Markdown and terminals: ``▁▂▄█▇``."""
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return SPARKS[3] * len(values)
    return "".join(SPARKS[round((v - lo) / (hi - lo) * (len(SPARKS) - 1))] for v in values)


STATUS_GLYPHS: dict[str, str] = {"ok": "✅", "warning": "⚠️", "critical": "❌", "unknown": "❔"}


def text_strip(statuses: Sequence[CheckStatus]) -> str:
    """Status history as compact glyphs for Markdown: ``✅✅❌❌✅``."""
    short = {"ok": "🟩", "warning": "🟨", "critical": "🟥", "unknown": "⬜"}
    return "".join(short[s.value] for s in statuses)
