"""Tokens for retrieval over Chinese, English and the mix an on-call engineer actually types.

Text is split into runs: CJK runs go to jieba's search mode (words plus their dictionary sub-words,
so ``磁盘清理`` also matches ``清理``); everything else goes through a small English tokenizer that
lowercases, keeps technical compounds whole *and* as parts (``autopurge.snapRetainCount`` →
``autopurge.snapretaincount``, ``autopurg``, ``snap``, ``retain``, ``count``), drops stopwords and
applies a light suffix stemmer. One function serves documents and queries, so both sides agree.

jieba is loaded lazily (about 0.6 s from its cache) in a private ``jieba.Tokenizer`` instance: the
domain words we add must not change how other modules (log mining) segment text, and its startup
chatter on stderr is silenced.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A word: letters/digits, optionally joined by . _ - : / inside (max_connections, 4lw.commands.whitelist).
_WORD = re.compile(r"[A-Za-z0-9]+(?:[._\-:/][A-Za-z0-9]+)*")
_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+[a-z]*")

_EN_STOP = (
    """a about above after again all also am an and any are as at be been before being below between both
    but by can could did do does doing during each either else etc few for from further get gets got had has
    have having he her here hers him his how i if in into is it its itself just let lets me might more most
    must my myself nor of off on once only or other our ours out over own please same shall she should so
    some such than that the their theirs them then there these they this those through to too under until
    up us very was we were what when where which while who whom why will with would you your yours"""
)
EN_STOPWORDS = frozenset(_EN_STOP.split())

_ZH_STOP = (
    """的 了 是 在 和 与 及 或 吗 呢 吧 啊 呀 么 嘛 着 过 把 被 让 给 对 从 就 都 也 还 又 而 但 但是 如果 那么
    怎么 怎么办 怎样 如何 什么 哪些 哪个 哪里 为什么 为啥 是否 一下 一个 这个 那个 这些 那些 这样 那样 我 我们
    你 你们 他 它 它们 他们 要 会 能 可以 应该 应当 得 地 之 其 该 并 等 请 时 时候 里 中 上 下 有 有没有
    现在 然后 以及 还是 可能 一般 多少 需要 先"""
)
ZH_STOPWORDS = frozenset(_ZH_STOP.split())

# Operations vocabulary jieba's general dictionary splits badly; kept small and generic.
DOMAIN_WORDS = (
    "拨测", "巡检", "快照", "事务日志", "主从", "主库", "从库", "备库", "死锁", "慢查询", "碎片率", "内存碎片",
    "驱逐", "淘汰", "连接数", "句柄", "文件句柄", "时钟漂移", "时钟偏移", "时间同步", "僵尸进程", "负载",
    "显存", "降频", "过热", "回卷", "长事务", "锁等待", "积压", "消费者", "告警", "证书", "首字延迟",
    "队列", "副本", "选主", "仲裁", "白名单", "四字命令", "滚动重启", "回滚", "熔断", "限流", "扩容",
    "缩容", "磁盘清理", "日志清理", "只读", "水位", "堆积", "重启", "探针", "存活探针", "就绪探针",
)

_SUFFIXES = (
    ("ational", "ate"), ("ization", "ize"), ("fulness", "ful"), ("ousness", "ous"), ("iveness", "ive"),
    ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ness", ""), ("ings", ""), ("ing", ""),
    ("ions", ""), ("ion", ""), ("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ers", ""), ("er", ""),
    ("edly", ""), ("ed", ""), ("ly", ""), ("s", ""),
)
_DOUBLE = re.compile(r"([b-df-hj-np-tv-z])\1$")

_jieba_lock = threading.Lock()
_jieba: Any = None


def _tokenizer() -> Any:
    """The private jieba tokenizer, built once on first use (thread-safe)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                for word in DOMAIN_WORDS:
                    tok.add_word(word, freq=20000)
                _jieba = tok
    return _jieba


def warm_up() -> None:
    """Load jieba now (e.g. at server start) instead of on the first query."""
    _tokenizer()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, predictable English stemmer: plural/tense/derivation suffixes, then a final ``e``.

    It conflates more than Porter in places (``server``/``serve`` → ``serv``), which is harmless
    for bag-of-words retrieval because documents and queries are stemmed the same way.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: len(word) - len(suffix)] + repl
            break
    if _DOUBLE.search(word) and not word.endswith(("ll", "ss", "zz")):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def english_tokens(text: str) -> list[str]:
    """Lowercased, stemmed tokens; compounds are kept whole and also split into their parts."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        raw = match.group(0)
        chunks = [_PART.findall(chunk) for chunk in re.split(r"[._\-:/]", raw)]
        parts = [p for chunk in chunks for p in chunk]
        low = raw.lower()
        if len(parts) > 1:
            out.append(low)
            if len(chunks) > 1:  # autopurge.snapRetainCount → also snapretaincount
                out.extend("".join(c).lower() for c in chunks if len(c) > 1)
        for part in parts:
            p = part.lower()
            if p in EN_STOPWORDS or (len(p) == 1 and not p.isdigit()):
                continue
            out.append(stem(p))
        if len(parts) == 0 and low not in EN_STOPWORDS:
            out.append(low)
    return out


def chinese_tokens(run: str) -> list[str]:
    """jieba search-mode words of one CJK run, without stopwords."""
    return [w for w in _tokenizer().lcut_for_search(run) if w.strip() and w not in ZH_STOPWORDS]


def tokenize(text: str) -> list[str]:
    """Tokens of mixed Chinese/English text, in order (duplicates kept: term frequency matters)."""
    out: list[str] = []
    pos = 0
    for match in _CJK_RUN.finditer(text):
        if match.start() > pos:
            out.extend(english_tokens(text[pos : match.start()]))
        out.extend(chinese_tokens(match.group(0)))
        pos = match.end()
    if pos < len(text):
        out.extend(english_tokens(text[pos:]))
    return out


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among the letters, to guess a text's language."""
    cjk = sum(len(m.group(0)) for m in _CJK_RUN.finditer(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    total = cjk + latin
    return cjk / total if total else 0.0


def guess_lang(text: str) -> str | None:
    """``zh`` when CJK is a real share of the text, ``en`` when it is Latin letters, else ``None``."""
    if not text.strip():
        return None
    ratio = cjk_ratio(text)
    if ratio >= 0.15:
        return "zh"
    return "en" if any(ch.isalpha() for ch in text) else None
