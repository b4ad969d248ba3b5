"""Token-level rules shared by the template miner: what a token *is*, and how two tokens merge.

Why a separate module: these few functions carry most of the grouping accuracy. Drain treats every
differing token the same, so "moved from OPEN to READY" and "... from READY to DONE" end
up in one template. Here a difference between two plain words is a *hard* difference (two
templates), while a difference in something shaped like a value (ids, dotted names, paths, masked
pieces) is *soft* and may be generalised. Merging keeps the readable frame of a token
(``org.example.<*>:``) instead of wiping the whole token, which is what parsing accuracy measures.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from steadyops.detect.logs.masking import WILDCARD

_FRAME_LEAD: Final = "([{<\"'"
_FRAME_TRAIL: Final = ")]}>\"',;:.!?"
_WORD: Final = re.compile(r"[A-Za-z]+\d{0,2}(?:[-_'][A-Za-z]+\d{0,2})*")
_ATOM: Final = re.compile(r"<\*>|[A-Za-z0-9]+|[^A-Za-z0-9]")
_RUNS: Final = re.compile(r"<\*>(?:[.]?<\*>)+")
# a name made of words joined by ``::``, ``:``, ``/`` or ``-`` (``Engine::start``, ``state:idle``):
# code, not data. Dotted names are left out: a dotted tail is as often a value (a bundle or
# property id under a fixed prefix) as a name
_NAME: Final = re.compile(r"[A-Za-z_]+(?:(?:::|[:/\-])[A-Za-z_]+)+")


@lru_cache(maxsize=65536)
def is_word(token: str) -> bool:
    """True for a plain word (optionally framed by brackets or punctuation): ``OPEN``, ``(starting).``.

    Plain words are the constants that tell templates apart; two different plain words at the
    same position are never merged on similarity alone. A word may end in a short number, as
    interface and device names do (``en0``, ``tty2``).
    """
    start, end = 0, len(token)
    while start < end and token[start] in _FRAME_LEAD:
        start += 1
    while end > start and token[end - 1] in _FRAME_TRAIL:
        end -= 1
    if start == end:
        return True  # pure punctuation ("-", "|", "::") is structure, as constant as a word
    return _WORD.fullmatch(token, start, end) is not None


_UNITS: Final = frozenset(
    {"b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "byte", "bytes", "%"}
    | {"ns", "us", "µs", "ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes"}
    | {"h", "hr", "hrs", "hour", "hours", "d", "day", "days"}
)


def is_unit(token: str) -> bool:
    """True for a unit of measure (``KB``, ``ms``, ``secs,``), trailing punctuation allowed."""
    return token.rstrip(_FRAME_TRAIL).lower() in _UNITS


@lru_cache(maxsize=65536)
def _parts(token: str) -> tuple[str, ...]:
    return tuple(token.split(WILDCARD))


def _glob(parts: tuple[str, ...], token: str) -> list[str] | None:
    """Values of the wildcards when ``token`` fits the literal ``parts`` around them, else None.

    Linear-time glob matching (anchored ends, each inner literal at its leftmost place), so a long
    token against a template with many wildcards cannot backtrack the way a regex would.
    """
    head, tail = parts[0], parts[-1]
    if len(token) < len(head) + len(tail) or not token.startswith(head) or not token.endswith(tail):
        return None
    pos, end = len(head), len(token) - len(tail)
    values: list[str] = []
    for literal in parts[1:-1]:
        found = token.find(literal, pos, end)
        if found < 0:
            return None
        values.append(token[pos:found])
        pos = found + len(literal)
    values.append(token[pos:end])
    return values


def covers(template_token: str, token: str) -> bool:
    """True when ``template_token`` already accepts ``token`` without changing."""
    if template_token in (token, WILDCARD):
        return True
    return WILDCARD in template_token and _glob(_parts(template_token), token) is not None


def _is_delim(atom: str) -> bool:
    return len(atom) == 1 and not atom.isalnum()


@lru_cache(maxsize=65536)
def split_difference(a: str, b: str) -> tuple[str, str, str, str]:
    """``(prefix, middle_a, middle_b, suffix)``: the common frame of two tokens and what differs.

    The prefix ends, and the suffix starts, at a delimiter, so a frame never cuts a word in two.
    """
    xa, xb = _ATOM.findall(a), _ATOM.findall(b)
    n = min(len(xa), len(xb))
    p = 0
    while p < n and xa[p] == xb[p]:
        p += 1
    while p > 0 and not _is_delim(xa[p - 1]):
        p -= 1
    s = 0
    while s < n - p and xa[-1 - s] == xb[-1 - s]:
        s += 1
    while s > 0 and not _is_delim(xa[len(xa) - s]):
        s -= 1
    suffix = "".join(xa[len(xa) - s :])
    return "".join(xa[:p]), "".join(xa[p : len(xa) - s]), "".join(xb[p : len(xb) - s]), suffix


def generalise(a: str, b: str) -> str:
    """Keep the common frame of two tokens and make the differing middle a wildcard."""
    if a == b:
        return a
    prefix, _, _, suffix = split_difference(a, b)
    merged = prefix + WILDCARD + suffix
    if WILDCARD + WILDCARD in merged or WILDCARD + "." + WILDCARD in merged:
        merged = _RUNS.sub(WILDCARD, merged)
    return merged


@lru_cache(maxsize=65536)
def merge(a: str, b: str) -> str | None:
    """Generalise two different tokens into one, or None when they must stay apart.

    The common prefix and suffix are kept when they end (start) at a delimiter, the differing
    middle becomes ``<*>``. When one token is the other plus an extra part (``OPEN(id=<*>)`` vs
    ``(id=<*>)``) there is nothing variable to generalise: that is a different message. When a
    middle is a plain word the difference is a word, and words tell messages apart, unless the
    other middle is a value (``chdir(pwd)`` vs ``chdir(<*>)``), which :func:`covers` accepts anyway.
    """
    if a == b:
        return a
    if a == WILDCARD or b == WILDCARD:
        return WILDCARD
    _, mid_a, mid_b, _ = split_difference(a, b)
    if not mid_a or not mid_b:
        # an optional part: only a value may be missing ("()" vs "(<*>)"), never a word
        if mid_a not in ("", WILDCARD) or mid_b not in ("", WILDCARD):
            return None
    elif WILDCARD in (mid_a, mid_b):
        # a word where the other token has a value in the same frame is a value there: the
        # template with the value already covers the word, so the order of the lines must not matter
        pass
    elif is_word(mid_a) or is_word(mid_b) or (_NAME.fullmatch(mid_a) and _NAME.fullmatch(mid_b)):
        return None
    return generalise(a, b)


def extract(template_token: str, token: str) -> list[str]:
    """The values that ``template_token`` leaves as parameters in ``token``."""
    if template_token == WILDCARD:
        return [token]
    if WILDCARD not in template_token:
        return [] if template_token == token else [token]
    values = _glob(_parts(template_token), token)
    return values if values is not None else [token]


def clear_caches() -> None:
    """Empty the process-wide memo caches (benchmarks time every run from cold)."""
    for fn in (is_word, _parts, split_difference, merge):
        fn.cache_clear()
