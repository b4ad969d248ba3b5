"""Untrusted text inside notifications: marked where it is inserted, escaped per vendor where it is sent.

Why marks and not escaping at render time: a notification is rendered once (Markdown) and then
adapted by each vendor (DingTalk/WeCom/Feishu markdown, Slack mrkdwn, email HTML), and each has its
own active syntax — ``[t](u)``, ``![](i)``, ``<at user_id="all">``, ``<url|t>``, ``<!channel>``,
``<a href>``, headings, bare URLs that get auto-linked. So the renderer wraps every label, annotation
or title that came from outside in :func:`untrusted` (private-use code points around the value), and
each notifier calls :func:`render` with its own transform for our trusted Markdown and its own
escape for the values: the transform never sees a value (it sees a placeholder), and the value is
escaped for exactly the markup it lands in. A value can thus never create a link, image, heading,
mention or a new line that starts markup. :func:`plain` drops the marks for text shown as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

OPEN, CLOSE = "\ue000", "\ue001"
WORD_JOINER = "\u2060"  # invisible, not whitespace: breaks auto-linking and line-start markup, shows nothing
_MARKED = re.compile(f"{OPEN}(.*?){CLOSE}", re.DOTALL)
_PLACEHOLDER = re.compile(f"{OPEN}(\\d+){CLOSE}")
#: every line break a renderer may honour, and other control characters
_BREAKS = re.compile("[\r\n\v\f\x85\u2028\u2029\t]+")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ue000\ue001]")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)|\b(mailto|javascript|data|tel|file):")
_DOMAIN_DOT = re.compile(r"(?<=\w)\.(?=\w)")
#: characters that start a block when first on a line (heading, quote, list, fence, table, setext)
_LINE_START = re.compile(r"^\s*[#>=\-+*|`~:\d]")
#: Markdown-family active characters → full-width look-alikes the renderers treat as text
_MARKDOWN = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞", "@": "＠", "#": "＃", "&": "＆",
                           "!": "！", "`": "｀", "|": "｜", "\\": "＼"})


def untrusted(value: object) -> str:
    """Mark ``value`` (a label, annotation, title from outside) as text to be escaped by every vendor.
    Line breaks become spaces and control characters go: one value, one line, never a new block."""
    text = _CONTROLS.sub("", _BREAKS.sub(" ", str(value)))
    return f"{OPEN}{text}{CLOSE}"


def plain(text: str) -> str:
    """The text without marks (for a plain-text channel or a log)."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def render(text: str, escape: Callable[[str], str], transform: Callable[[str], str] = lambda s: s) -> str:
    """``transform`` (our Markdown → the vendor's) over the trusted skeleton, ``escape`` over each value."""
    values: list[str] = []

    def stash(m: re.Match[str]) -> str:
        values.append(m.group(1))
        return f"{OPEN}{len(values) - 1}{CLOSE}"

    skeleton = transform(_MARKED.sub(stash, text))
    return plain(_PLACEHOLDER.sub(lambda m: escape(values[int(m.group(1))]), skeleton))


def defang(value: str) -> str:
    """No auto-link: a word joiner after every URL scheme's colon and inside every dotted name."""
    value = _SCHEME.sub(lambda m: m.group(0) + WORD_JOINER, value)
    return _DOMAIN_DOT.sub("." + WORD_JOINER, value)


def _line_safe(value: str) -> str:
    return WORD_JOINER + value if _LINE_START.match(value) else value


def escape_markdown(value: str) -> str:
    """DingTalk, WeCom and Feishu markdown (and Feishu's ``<at>``/``<font>`` tags): brackets, angle brackets,
    ``@``, ``#``, ``!`` and friends become full-width look-alikes; URLs and domains are defanged."""
    return _line_safe(defang(value.translate(_MARKDOWN)))


def escape_slack(value: str) -> str:
    """Slack mrkdwn: ``&<>`` as Slack asks (so no ``<url|t>``, ``<!channel>``, ``<@U…>``), no Markdown link
    for our converter to turn into one, no ``@here``; URLs and domains defanged (Slack auto-links them)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _line_safe(defang(value.translate({ord("["): "［", ord("]"): "］", ord("@"): "＠", ord("`"): "｀"})))


def escape_html(value: str) -> str:
    """Email HTML: entity-escaped, and defanged so a mail client's auto-linker finds no URL either."""
    return html.escape(defang(value))
