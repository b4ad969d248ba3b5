"""Knowledge-base messages in the shape of :data:`steadyops.i18n.MESSAGES`, to be merged there.

Kept here until the merge so this module's owners do not edit the shared catalogue in parallel;
:func:`msg` already prefers the shared catalogue, so after the merge nothing else changes.
"""

from __future__ import annotations

from steadyops.i18n import MESSAGES as SHARED
from steadyops.i18n import Lang

MESSAGES: dict[str, dict[str, str]] = {
    "kb.added": {"en": "Added {name}: {passages} passage(s).", "zh": "已添加 {name}：{passages} 个段落。"},
    "kb.added_total": {"en": "{count} document(s) stored in {path}; the server picks them up on its next search.",
                       "zh": "已将 {count} 个文档存入 {path}；服务端在下一次检索时自动加载。"},
    "kb.removed": {"en": "Removed {name}.", "zh": "已删除 {name}。"},
    "kb.no_results": {"en": "No passage matches.", "zh": "没有匹配的段落。"},
    "kb.no_documents": {"en": "No documents of your own yet; the {count} built-in runbooks are always searched.",
                        "zh": "还没有自有文档；{count} 篇内置运维手册始终参与检索。"},
    "kb.builtin_count": {"en": "Plus {count} built-in runbooks.", "zh": "另有 {count} 篇内置运维手册。"},
    "kb.name_single": {"en": "--name applies to a single file, not to a directory",
                       "zh": "--name 只能用于单个文件，不能用于目录"},
    "kb.not_found": {"en": "{path} does not exist", "zh": "{path} 不存在"},
    "kb.col.rank": {"en": "#", "zh": "序号"},
    "kb.col.score": {"en": "Score", "zh": "得分"},
    "kb.col.source": {"en": "Source", "zh": "来源"},
    "kb.col.lines": {"en": "Lines", "zh": "行号"},
    "kb.col.heading": {"en": "Section", "zh": "章节"},
    "kb.col.snippet": {"en": "Text", "zh": "内容"},
    "kb.col.name": {"en": "Name", "zh": "名称"},
    "kb.col.format": {"en": "Format", "zh": "格式"},
    "kb.col.size": {"en": "Bytes", "zh": "字节数"},
    "kb.col.added": {"en": "Added", "zh": "添加时间"},
}


def msg(key: str, lang: Lang, **kwargs: object) -> str:
    """Like :func:`steadyops.i18n.t`, falling back to this module's table for keys not merged yet."""
    entry = SHARED.get(key) or MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**kwargs) if kwargs else text
