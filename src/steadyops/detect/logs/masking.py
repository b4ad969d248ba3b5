"""Variable masking and Chinese-safe tokenisation for log template mining.

Why masking matters: a template miner can only group lines correctly when the parts that change
from one occurrence to the next (addresses, ids, counters, paths, durations …) are recognised
before lines are compared. Drain-style parsers are usually run with hand-written regexes per log
source; this module is deliberately *one* configuration for every source, so it works on logs
nobody has looked at yet.

The unit of masking is a whitespace-delimited word. Within a word we keep the punctuation that
frames a value (``(id=<*>)``, ``[<*>]``, ``attempts:<*>,``) and replace only the value, because
that is how log templates are written by the people who annotate benchmarks and by the people who
read alerts: the constant key stays readable, the value becomes ``<*>``.

Tokenisation keeps CJK text intact: a run of Chinese characters is segmented with jieba when it is
installed (one token per run otherwise) and never broken into bytes or single characters by a
whitespace splitter that does not know about it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Final

WILDCARD: Final = "<*>"

# --- whole-value patterns -------------------------------------------------------------------
# Each pattern is matched against the *core* of a word (the word without the brackets, quotes and
# trailing punctuation around it) and, when it matches, the whole core is one parameter.
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
# URL: a short scheme (at most one dot, as in scheme.sub://), then anything up to a quote or bracket
_URL = r"[A-Za-z][A-Za-z0-9+\-]{0,15}(?:\.[A-Za-z0-9+\-]{1,15})?://[^\s'\"()\[\]<>]*"
_WHOLE_VALUE: Final = re.compile(
    "|".join(
        (
            _URL,
            r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+",  # e-mail address
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",  # UUID
            # endpoint: [host/]IPv4[/prefix][:port], optionally after a '/' (Java's InetSocketAddress)
            rf"(?:[\w.\-]*/)?{_IPV4}(?:/\d{{1,2}})?(?::\d+)?",
            # IPv6 / MAC: at least three colons between hex groups, or a '::' compression
            r"\[?[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){3,}\]?(?::\d+)?(?:%\w+)?",
            r"(?=[\w:%]*\d)(?:[0-9a-fA-F]{1,4})?(?:::?[0-9a-fA-F]{1,4})*::(?:[0-9a-fA-F]{1,4})?(?:%\w+)?",
            r"(?:[0-9a-fA-F]{2}-){5}[0-9a-fA-F]{2}",  # MAC written with dashes
            r"[-+]?0[xX][0-9a-fA-F]+",  # hex literal
            # a compound duration: 1h2m3s, 2m30s, 1d12h
            r"(?:\d+(?:\.\d+)?(?:d|h|m|s|ms|us|µs|ns)){2,}",
            # number with optional unit (sizes, durations, percentages): 12, -3.5, 1e-3, 12KB, 3.5s, 80%
            r"[-+]?\d+(?:\.\d+)*(?:[eE][-+]?\d+)?"
            r"(?:[kKMGTP]i?[bB]?|[bB]|bytes|ms|us|µs|ns|s|sec|secs|m|min|mins|h|hr|d|%|x)?",
            # ISO-8601 timestamp, and the dashed/dotted variants many Java and C loggers print
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
            r"\d{4}[-./]\d{2}[-./]\d{2}-\d{2}[.:]\d{2}[.:]\d{2}(?:[.,]\d+)?",
            # hex id of six or more digits mixing letters and decimal digits (3fa9c2e1, 0a7b44d9…)
            r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}",
            r"(?:null|NULL|Null|nil|None|true|false|TRUE|FALSE|True|False)",  # literals printed by code
            # the superuser accounts every system has are user names, a value like any other user name
            # (the Loghub annotation guideline masks them by default, rule US: 'root', 'admin')
            r"(?:root|ROOT|Root|admin|ADMIN|Admin)",
            r"(?:/|\./|\.\./|~/)[^\s'\"]+",  # absolute or relative path
            r"[A-Za-z]:\\\S*",  # Windows path
        )
    )
)
# a hostname: dotted labels ending in a public or local suffix; reverse-DNS names (com.example.x,
# org.example.y) are class / bundle names and stay constant.
_HOSTNAME: Final = re.compile(
    r"(?!(?:com|org|net|java|javax|sun|io|edu|gov)\.)[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:(?:\.[A-Za-z0-9\-]+)*\.(?:com|net|org|edu|gov|mil|info|biz|io|local|lan|internal|cloud)"
    r"|(?:\.[A-Za-z0-9\-]+){2,}\.[a-z]{2})"  # country-code suffixes only with three or more labels
)
# host:port where the host is a name with a dash or dot (a key:value pair has neither)
_HOST_PORT: Final = re.compile(r"[A-Za-z0-9][\w\-]*[.\-][\w.\-]*:\d+")
# a word that ends in a small number is a name (eth0, disk2, Type1, L3), not a value
_NAMED_WORD: Final = re.compile(r"[A-Za-z]+\d{1,2}")
# a snake_case code identifier whose parts are lower-case words, digits only inside a part
# (utf8_decode, sha256_sum, ipv4_addr): a function or field name, not data. A part that is a longer
# number makes it an id (run_20240102, part_0001_x).
_IDENTIFIER: Final = re.compile(r"[a-z]+\d{0,3}[a-z]*(?:_[a-z]+\d{0,3}[a-z]*)+")
# a qualified name (com.example.service.v2.OrderState): code, not data
_QUALIFIED_NAME: Final = re.compile(r"[A-Za-z_$][A-Za-z_$]*\d{0,2}(?:\.[A-Za-z_$][A-Za-z_$]*\d{0,2})+")
# numbers joined by dashes (dates, ranges, lists); the last piece may carry an ``_``-joined part,
# as a date followed by its hour does (2024-01-02_03)
_DASHED_NUMBERS: Final = re.compile(r"\d+(?:[-#]+\d+)+(?:_\d+)?")
_DASHED_PIECE: Final = re.compile(r"\d+(?:_\d+)?")
# a number followed by the name of the next field (5_code): the name stays
_NUMBER_THEN_NAME: Final = re.compile(r"(\d+)(_[A-Za-z]{2,})")
_NUMERIC_TAIL: Final = re.compile(r"[\d.\-]*\d[\d.\-]*")
# a readable name, possibly dotted (a reverse-DNS or qualified name), then a numbered suffix
_PREFIXED: Final = re.compile(r"([A-Za-z_](?:[A-Za-z_.\-]*[A-Za-z])?[A-Za-z])([.\-#/])(.+)")
# key=value / key:value whose value is a path, URL, address …: the value may contain delimiters
_KEY_VALUE: Final = re.compile(r"([A-Za-z_][\w.\-]*)([:=])(.+)")

# characters that frame a value inside a word; they stay in the template
_LEAD: Final = "([{<\"'#"
_TRAIL: Final = ")]}>\"',;:.!?"
# delimiters at which a word is split into independently masked segments
_SEGMENT_SPLIT: Final = re.compile(r"([:=,;|()\[\]{}<>\"'@/]+|\.{2,})")
# values inside a longer word are one value each, not one per delimiter-separated piece: an IPv4
# endpoint (``10.0.0.7:8080:ready``), a colon-separated hex id (``dev(0A:1B:2C:3D:4E:5F)``) and a
# path after an opening bracket or a key (``open(/srv/data/x)``, ``path:/var/run/x``)
_EMBEDDED: Final = re.compile(
    rf"(?<![\w.]){_IPV4}(?::\d+)?(?![\w.])|(?<![\w.+\-]){_URL}"
    r"|(?<![\w:])[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){3,}(?![\w:])"
    r"|(?<=[(\[=:\"'])(?:/|\./|~/)[^\s'\"()\[\]<>]+"
)
# a word that starts a path: the path runs to the next whitespace or framing delimiter, so a dot
# right after it is the path's own (``part-00590.``, ``libfoo.so.``): '.' is not a delimiter of
# path-like strings in the Loghub annotation guideline (Khan et al., ICSE'22, rule PS)
_PATH_START: Final = re.compile(r"(?:/|\./|\.\./|~/)[^\s'\"]")
_DIGIT: Final = re.compile(r"\d")
_WILD_RUN: Final = re.compile(r"(?:<\*>)(?:[.]?<\*>)+")

# Values that span several words. They are replaced before tokenisation so the template keeps one
# parameter for them: a ctime / syslog timestamp ("Mon Jan  2 03:04:05 2006"), and the target plus
# protocol version of an HTTP request line ("GET /api/items/7 HTTP/1.1" -> "GET <*>"), whose
# method is the constant part (RFC 9110 names the methods).
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_MULTIWORD: Final = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
    + _MONTH
    + r"\.?\s+\d{1,2},?\s+(?:\d{4}\s+)?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s+[A-Z]{3,4}\b)?(?:\s+\d{4}\b)?"
    r"|(?P<verb>\b(?:GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS|CONNECT|TRACE) )\S+ HTTP/\d(?:\.\d)?"
)
_CJK_RUN: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")

_CACHE_LIMIT: Final = 100_000
# a longer unbroken word with digits is data (a blob, a class path, an encoded payload), never
# template text; the limit also bounds the work the patterns below do on one word
_LONG_WORD: Final = 256
_LONG_KEY: Final = re.compile(r"[A-Za-z_][\w.\-]{0,63}[:=]")


def _mask_segment(seg: str) -> str:
    """Mask one segment (no framing delimiters left in it)."""
    if not seg or seg == WILDCARD:
        return seg
    if _WHOLE_VALUE.fullmatch(seg) or _HOSTNAME.fullmatch(seg):
        return WILDCARD
    if not _DIGIT.search(seg):
        return seg
    if _NAMED_WORD.fullmatch(seg) or _QUALIFIED_NAME.fullmatch(seg) or _IDENTIFIER.fullmatch(seg):
        return seg
    if len(seg) > 2 and (seg[0] == "-" or seg[-1] == "-"):
        # a dash that separates a value from what precedes or follows it is structure, not part
        # of the value: ``]-<*>`` , ``<*>-[``; a dash before a digit is a sign and stays
        if seg[0] == "-" and seg[1].isalpha():
            return "-" + _mask_segment(seg[1:])
        if seg[-1] == "-" and seg[-2] != "-":
            return _mask_segment(seg[:-1]) + "-"
    if _DASHED_NUMBERS.fullmatch(seg):
        # dates, ranges and lists are written one number at a time (2024-01-02 -> <*>-<*>-<*>)
        return _DASHED_PIECE.sub(WILDCARD, seg)
    n = _NUMBER_THEN_NAME.fullmatch(seg)
    if n:
        return WILDCARD + n.group(2)
    m = _PREFIXED.fullmatch(seg)
    if m and _NUMERIC_TAIL.fullmatch(m.group(3)):
        # a readable name with a numbered suffix keeps the name: worker-17, libfoo-2.4.1, shard#3
        return m.group(1) + m.group(2) + WILDCARD
    return WILDCARD


def _mask_core(core: str) -> str:
    """Mask a word without its framing punctuation."""
    if _WHOLE_VALUE.fullmatch(core) or _HOSTNAME.fullmatch(core) or _HOST_PORT.fullmatch(core):
        return WILDCARD
    kv = _KEY_VALUE.fullmatch(core)
    if kv and (_WHOLE_VALUE.fullmatch(kv.group(3)) or _HOSTNAME.fullmatch(kv.group(3))):
        return kv.group(1) + kv.group(2) + WILDCARD
    if _DIGIT.search(core) or "/" in core:
        core = _EMBEDDED.sub(WILDCARD, core)
        if core == WILDCARD:
            return core
    parts = _SEGMENT_SPLIT.split(core)
    if len(parts) == 1:
        return _mask_segment(core)
    out = [p if i % 2 else _mask_segment(p) for i, p in enumerate(parts)]
    return "".join(out)


def _mask_word(word: str) -> str:
    if len(word) > _LONG_WORD and _DIGIT.search(word):
        key = _LONG_KEY.match(word)
        return key.group() + WILDCARD if key else WILDCARD
    start, end = 0, len(word)
    while start < end and word[start] in _LEAD:
        start += 1
    while end > start and word[end - 1] in _TRAIL:
        end -= 1
    core = word[start:end]
    if not core:
        return word
    masked = _mask_core(core)
    if masked is core or masked == core:
        return word
    if WILDCARD + WILDCARD in masked or WILDCARD + "." + WILDCARD in masked:
        masked = _WILD_RUN.sub(WILDCARD, masked)
    trail = word[end:]
    if masked == WILDCARD and trail[:1] == "." and _PATH_START.match(core):
        trail = trail.lstrip(".")
    out = word[:start] + masked + trail
    if WILDCARD + ">" in out and out.count(">") > out.count("<"):
        # the closing bracket of a ``<Type: value>`` description that opened in an earlier word
        # goes with the value (``<Conn: 0x1f..>`` -> ``<Conn: <*>``), as annotated templates do
        out = out.replace(WILDCARD + ">", WILDCARD, 1)
    return out


class Masker:
    """Masks the variable parts of words; one configuration for every log source.

    The per-word cache is why masking is cheap: most words of a log stream are the constant words
    of a few hundred templates, so after warm-up nearly every lookup is a dict hit.
    """

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}
        """word -> masked word; read directly by hot loops (a miss must go through mask_word)."""

    def mask_word(self, word: str) -> str:
        """Return ``word`` with its variable parts replaced by ``<*>``."""
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        masked = _mask_word(word)
        if len(self.cache) >= _CACHE_LIMIT:
            self.cache.clear()
        self.cache[word] = masked
        return masked


_jieba_cut: Callable[[str], list[str]] | None = None
_jieba_tried = False


def _segment_cjk(run: str) -> list[str]:
    """Split a run of CJK characters into words (jieba if available, else the run as one word)."""
    global _jieba_cut, _jieba_tried
    if not _jieba_tried:
        _jieba_tried = True
        try:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            _jieba_cut = jieba.lcut
        except ImportError:  # pragma: no cover - jieba is a declared dependency
            _jieba_cut = None
    if _jieba_cut is None or len(run) <= 2:
        return [run]
    return [w for w in _jieba_cut(run) if w]


_MONTH_HINT: Final = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d")


def premask(line: str) -> tuple[str, list[str]]:
    """Replace multi-word values by ``<*>``; return the new line and the replaced texts in order."""
    originals: list[str] = []
    # cheap substring guards first: the regex is only worth running when it can match
    if " HTTP/" not in line and not (":" in line and _MONTH_HINT.search(line)):
        return line, originals

    def keep(m: re.Match[str]) -> str:
        verb = m.group("verb")
        if verb:
            originals.append(m.group()[len(verb) :])
            return verb + WILDCARD
        originals.append(m.group())
        return WILDCARD

    return _MULTIWORD.sub(keep, line), originals


def tokenize(line: str) -> tuple[list[str], tuple[int, ...]]:
    """Split a log line into tokens; also return the positions glued to the previous token.

    Whitespace separates words. Inside a word, CJK runs are split off (and segmented) so that a
    Chinese sentence without spaces still yields comparable tokens; a token listed in the second
    value followed its predecessor without whitespace, so templates render back faithfully.
    Lines without CJK text (nearly all) take the fast path: ``str.split`` and no glue.
    """
    words = line.split()
    if not _CJK_RUN.search(line):
        return words, ()
    tokens: list[str] = []
    glued: list[int] = []
    for word in words:
        pos = 0
        pieces: list[str] = []
        for m in _CJK_RUN.finditer(word):
            if m.start() > pos:
                pieces.append(word[pos : m.start()])
            pieces.extend(_segment_cjk(m.group()))
            pos = m.end()
        if pos < len(word):
            pieces.append(word[pos:])
        glued.extend(range(len(tokens) + 1, len(tokens) + len(pieces)))
        tokens.extend(pieces)
    return tokens, tuple(glued)


def render(tokens: Sequence[str], glued: Collection[int] = ()) -> str:
    """Join tokens back into text, with a space only where the original had whitespace."""
    if not glued:
        return " ".join(tokens)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if i and i not in glued:
            out.append(" ")
        out.append(tok)
    return "".join(out)


_DEFAULT = Masker()


def mask(line: str) -> str:
    """Mask a whole line with the default configuration (convenience for callers and tests)."""
    tokens, glued = tokenize(premask(line)[0])
    return render([_DEFAULT.mask_word(t) for t in tokens], glued)
