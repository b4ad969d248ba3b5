"""What a question asks for, and which kind of runbook section answers it.

Runbooks share a shape — symptoms, checks, causes, remediation, risks — and the words of a
question ("how do I fix", "为什么", "怎么排查") say which of those sections it wants, while its
technical terms say which runbook. Lexical scores find the runbook well but, within it, favour the
short sections that repeat the problem's terms (symptoms, the intro) over the remediation that
answers "what do I do". A prior fixes that: a passage whose section kind matches the question's
intent gets its score multiplied by ``1 + SECTION_BOOST`` (see :mod:`steadyops.knowledge.ranking`).

Both sides are recognised by short, general cue lists in English and Chinese — no per-runbook
rules. A heading of unknown kind (most user documents) is left alone; a question with no
recognisable intent gets a weaker lean towards the fix (see ``ranking.DEFAULT_INTENT``).
"""

from __future__ import annotations

import re
from functools import lru_cache

SECTION_BOOST = 1.0

# Section kind from the leaf heading of a passage.
_SECTION_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("risk", re.compile(r"risk|rollback|roll back|caveat|warning|风险|回滚|注意事项", re.I)),
    ("meaning", re.compile(r"reading|meaning|interpret|what each|semantics|codes?\b|how to decide|"
                           r"解读|含义|语义|编号|如何判断|说明", re.I)),
    ("check", re.compile(r"check|diagnos|investigat|troubleshoot|verif|inspect|locali[sz]|"
                         r"排查|检查|诊断|定位|检测", re.I)),
    ("cause", re.compile(r"cause|reason|why|原因|根因", re.I)),
    ("symptom", re.compile(r"symptom|sign|impact|现象|症状|表现|影响", re.I)),
    ("fix", re.compile(r"remediat|resolution|mitigat|\bfix|solution|steps|procedure|recover|workaround|"
                       r"处理|解决|修复|处置|步骤|恢复|应急", re.I)),
)

# Question intent, strongest first: the first kind whose cue matches wins. "How do I …" and "怎么…"
# mean "how do I fix it" unless the verb is one of looking (check) — that rule carries most questions.
_LOOK_EN = r"(check|see|find|tell|confirm|know|verify|identify|locate|diagnose|investigate|monitor|look)"
_QUERY_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("risk", re.compile(r"\b(risks?|risky|roll ?back|undo|revert|restore)\b|风险|回滚|撤销|还原|会不会|安全吗", re.I)),
    ("meaning", re.compile(r"\bmean(s|ing)?\b|\bdifference between\b|\binterpret|"
                           r"什么意思|含义|区别|意味着|是什么情况|说明什么", re.I)),
    ("check", re.compile(rf"\bhow (do|can|should|would) (i|we|you) {_LOOK_EN}\b|\bhow to {_LOOK_EN}\b|"
                         r"\bfind out\b|\b(see|show|list) (which|what|who)\b|"
                         r"(怎么|如何|怎样)(排查|查|看|找|定位|判断|确认|监控)|哪一层|是谁|谁在", re.I)),
    ("cause", re.compile(r"\bwhy\b|\bcause[sd]?\b|\breasons?\b|为什么|为啥|原因|怎么回事|导致", re.I)),
    ("fix", re.compile(r"\bhow (do|can|should) (i|we|you)\b|\bhow to\b|\bwhat (should|do|can) (i|we)\b|"
                       r"\b(fix|resolve|recover|mitigate|get rid of|workaround|recommended|sensible)\b|"
                       r"怎么|如何|怎样|咋办|处理|解决|恢复|修复|建议|该设|设多大|多大合适|多少合适", re.I)),
)


@lru_cache(maxsize=4096)
def section_kind(heading_path: str) -> str | None:
    """Kind of a passage's section from its heading path (``… > 处理步骤`` → ``fix``), or None.

    The leaf decides; an unrecognised leaf inherits from its parents (``Remediation > Free space
    safely`` is a fix). The first component is the document title and never counts.
    """
    for heading in reversed(heading_path.split(" > ")[1:]):
        for kind, pattern in _SECTION_CUES:
            if pattern.search(heading):
                return kind
    return None


# A question that only states a contradiction ("load is 40 but the CPUs are idle", "明明删了文件 df
# 还是满的") asks why; used only when nothing above matched.
_CONTRAST = re.compile(r"\b(but|although|though|yet|despite|even though)\b|但是|但|却|可是|明明", re.I)


def query_intent(query: str) -> str | None:
    """What the question asks for (``fix``, ``cause``, ``check``, ``meaning``, ``risk``) or None.

    The intent words stay in the query that BM25 sees: removing them was tried and measured
    slightly worse on the retrieval eval.
    """
    for kind, pattern in _QUERY_CUES:
        if pattern.search(query):
            return kind
    if _CONTRAST.search(query):
        return "cause"
    return None
