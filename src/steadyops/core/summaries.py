"""Check summaries in the reader's language, for the phrases every integration shares.

A check writes its summary once, in English (it often quotes the server: ``imok``, ``READONLY``,
an errno). A Chinese report must not read as English, so the shared phrases — could not ask,
timed out, connection refused, not listening, blocked by, not applicable — are rendered in zh
here, where every report passes; what a check quotes from the server stays as it was said.
Phrases are generic: none names a service, a data set or a threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from steadyops.core.i18n import Lang

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_ZH: list[_Rule] = [
    (re.compile(r"^blocked by (?P<gate>[\w.]+): (?P<rest>.*)$", re.S),
     lambda m: f"被 {m['gate']} 阻塞：{in_lang(m['rest'], 'zh')}"),
    (re.compile(r"^cannot tell (?P<what>[^:]+): (?P<rest>.*)$", re.S),
     lambda m: f"无法判断（{m['what']}）：{in_lang(m['rest'], 'zh')}"),
    (re.compile(r"^cannot tell: (?P<rest>.*)$", re.S), lambda m: f"无法判断：{in_lang(m['rest'], 'zh')}"),
    (re.compile(r"^timed out after (?P<s>[\d.]+)s$"), lambda m: f"超时（{m['s']} 秒）"),
    (re.compile(r"^check failed: (?P<rest>.*)$", re.S), lambda m: f"检查出错：{m['rest']}"),
    (re.compile(r"^(?P<who>[A-Z][\w.-]*) is not listening(?P<on> on \S+)?(?:: | )?(?P<rest>.*)$", re.S),
     lambda m: f"{m['who']} 未在监听{(' ' + m['on'].strip()) if m['on'] else ''}"
               + (f"：{in_lang(m['rest'].strip('() '), 'zh')}" if m['rest'] else "")),
    (re.compile(r"^connection refused: nothing listens on the port(?P<rest>.*)$", re.S),
     lambda m: "连接被拒绝：端口上无人监听" + m["rest"]),
    (re.compile(r"^connection refused(?P<rest>.*)$", re.S), lambda m: "连接被拒绝" + m["rest"]),
    (re.compile(r"^not applicable: this host was not booted with systemd$"),
     lambda m: "不适用：本机不是以 systemd 启动的"),
    (re.compile(r"^not checked: target label (?P<label>\S+)$"), lambda m: f"未检查：目标标签 {m['label']}"),
    (re.compile(r"^no failed systemd units$"), lambda m: "没有失败的 systemd 单元"),
    (re.compile(r"^(?P<n>\d+) failed systemd unit\(s\): (?P<rest>.*)$", re.S),
     lambda m: f"{m['n']} 个 systemd 单元失败：{m['rest']}"),
    (re.compile(r"^not reported(?P<rest>.*)$", re.S), lambda m: "未上报" + m["rest"]),
]


def in_lang(summary: str, lang: Lang) -> str:
    """``summary`` for a reader of ``lang``: the shared phrases translated, quoted server words kept."""
    if lang != "zh" or not summary:
        return summary
    for pattern, build in _ZH:
        m = pattern.match(summary)
        if m:
            return build(m)
    return summary
