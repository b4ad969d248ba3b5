"""Output helpers every CLI noun shares.

Aligned text tables count East Asian wide characters as two columns (so Chinese headers line up
in a terminal); times are shown in the terminal's local zone; ``--format json`` prints raw JSON.
"""

from __future__ import annotations

import getpass
import json
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from steadyops.cli.common import fail, state
from steadyops.core.i18n import MESSAGES, t


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json / 输出格式")]


def char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns, not code points: ``事件`` is 4 columns wide, not 2."""
    return sum(char_width(ch) for ch in text)


def clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def render_table(headers: Sequence[str], rows: Iterable[Sequence[str]], max_width: int = 60) -> str:
    """Columns separated by two spaces, padded by display width; long cells end in an ellipsis."""
    cells = [[clip(" ".join(str(c).split()), max_width) for c in row] for row in rows]
    widths = [max(display_width(v) for v in column) for column in zip(headers, *cells, strict=False)]
    lines = []
    for row in [list(headers), *cells]:
        padded = [v + " " * (w - display_width(v)) for v, w in zip(row, widths, strict=False)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def render_fields(fields: Sequence[tuple[str, str]]) -> str:
    """``name:  value`` lines with the values aligned, for one object's details."""
    colon = "：" if state.lang == "zh" else ": "  # the full-width colon carries its own spacing
    width = max((display_width(k) for k, _ in fields), default=0)
    return "\n".join(f"{k}{colon}{' ' * (width - display_width(k))} {v}" for k, v in fields)


def fmt_time(value: str | None) -> str:
    """API times are UTC ISO 8601; an operator reads them in the terminal's local time."""
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    total = round(value)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) + (f"{seconds}s" if seconds or not parts else "")


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def translated(prefix: str, value: str) -> str:
    """``incident.status.open`` → 处理中 in Chinese; an unknown value is shown as it is."""
    key = f"{prefix}.{value}"
    return t(key, state.lang) if key in MESSAGES else value


def parse_choice(value: str, choices: Sequence[str], prefix: str) -> str:
    """Accept the API's value or its translation in either language (``--status 处理中``)."""
    wanted = value.strip().lower()
    for choice in choices:
        names = {choice, *(MESSAGES.get(f"{prefix}.{choice}", {}).values())}
        if wanted in {n.lower() for n in names}:
            return choice
    fail(t("cli.bad_status", state.lang, value=value, choices=", ".join(choices)))


def operator_name(by: str) -> str:
    """``--by`` or the login name (as amtool's ``--author``); a container may have neither."""
    if by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        fail(t("cli.need_by", state.lang))


def parse_pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, val = item.partition("=")
        if not sep or not name.strip():
            fail(t("cli.bad_pair", state.lang, what=what, value=item))
        out[name.strip()] = val
    return out
