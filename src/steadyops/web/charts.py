"""Small charts as inline SVG, drawn on the server: no chart library, nothing to load from a CDN,
and a screenshot or a saved page shows exactly what the operator saw."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def sparkline(values: Sequence[float], width: int = 240, height: int = 48) -> Markup:
    if len(values) < 2:
        return Markup("")
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = width / (len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 4 - (v - lo) / span * (height - 8):.1f}" for i, v in enumerate(values))
    return Markup(f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
                  f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/>'
                  f'<text x="2" y="10" font-size="9">{hi:.4g}</text>'
                  f'<text x="2" y="{height - 1}" font-size="9">{lo:.4g}</text></svg>')


def bars(items: Sequence[tuple[str, float]], width: int = 360, bar_height: int = 18,
         css: Sequence[str] | None = None) -> Markup:
    """Horizontal bars with labels: top-N lists and per-severity counts."""
    if not items:
        return Markup("")
    top = max(v for _, v in items) or 1.0
    label_w = 150
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * (bar_height + 4)
        w = max(1.0, (width - label_w - 40) * value / top)
        cls = escape(css[i]) if css and i < len(css) else "bar"
        rows.append(f'<text x="0" y="{y + bar_height - 5}" font-size="11">{escape(label[:24])}</text>'
                    f'<rect class="{cls}" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="2"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 5}" font-size="11">{value:g}</text>')
    h = len(items) * (bar_height + 4)
    return Markup(f'<svg class="bars" viewBox="0 0 {width} {h}" width="100%" height="{h}" role="img">'
                  + "".join(rows) + "</svg>")


def columns(values: Sequence[tuple[str, float | None]], width: int = 360, height: int = 90) -> Markup:
    """A column per period (e.g. 1-5-10 attainment per day, 0..1); ``None`` draws a gap."""
    if not values:
        return Markup("")
    n = len(values)
    w = width / n
    parts = []
    for i, (label, v) in enumerate(values):
        x = i * w
        if v is not None:
            h = max(1.0, (height - 16) * v)
            parts.append(f'<rect class="col" x="{x + 2:.1f}" y="{height - 14 - h:.1f}" width="{w - 4:.1f}" '
                         f'height="{h:.1f}"><title>{escape(label)}: {v:.0%}</title></rect>')
        if i % max(1, n // 7) == 0 or i == n - 1:  # a label every few columns: they must not overlap
            parts.append(f'<text x="{x + w / 2:.1f}" y="{height - 2}" font-size="9" text-anchor="middle">'
                         f'{escape(label)}</text>')
    return Markup(f'<svg class="columns" viewBox="0 0 {width} {height}" width="100%" height="{height}" role="img">'
                  + "".join(parts) + "</svg>")
