"""zh-CN / en message catalogue.

One flat table keyed by message id keeps translations side by side, so a missing one is visible in
review and caught by a test that every key has both languages.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

MESSAGES: dict[str, dict[str, str]] = {
    "status.firing": {"en": "FIRING", "zh": "告警"},
    "status.resolved": {"en": "RESOLVED", "zh": "已恢复"},
    "notify.title": {"en": "[{status}:{count}] {name}", "zh": "【{status}:{count}】{name}"},
    "notify.firing_header": {"en": "Firing ({count})", "zh": "告警中（{count}）"},
    "notify.resolved_header": {"en": "Resolved ({count})", "zh": "已恢复（{count}）"},
    "notify.incident": {"en": "Incident #{id}: {title}", "zh": "事件 #{id}：{title}"},
    "notify.started": {"en": "started {at}", "zh": "开始于 {at}"},
    "notify.ended": {"en": "ended {at}", "zh": "结束于 {at}"},
    "notify.more": {"en": "… and {count} more", "zh": "……另有 {count} 条"},
    "incident.status.open": {"en": "open", "zh": "处理中"},
    "incident.status.acknowledged": {"en": "acknowledged", "zh": "已认领"},
    "incident.status.resolved": {"en": "resolved", "zh": "已解决"},
    "severity.critical": {"en": "critical", "zh": "严重"},
    "severity.warning": {"en": "warning", "zh": "警告"},
    "severity.info": {"en": "info", "zh": "提示"},
    "col.id": {"en": "ID", "zh": "编号"},
    "col.status": {"en": "Status", "zh": "状态"},
    "col.severity": {"en": "Severity", "zh": "级别"},
    "col.title": {"en": "Title", "zh": "标题"},
    "col.opened": {"en": "Opened", "zh": "开始时间"},
    "col.alerts": {"en": "Alerts", "zh": "告警数"},
    "col.matchers": {"en": "Matchers", "zh": "匹配条件"},
    "col.ends": {"en": "Ends", "zh": "结束时间"},
    "col.creator": {"en": "Created by", "zh": "创建人"},
    "col.comment": {"en": "Comment", "zh": "备注"},
    "cli.no_incidents": {"en": "No incidents.", "zh": "没有事件。"},
    "cli.no_silences": {"en": "No silences.", "zh": "没有静默规则。"},
    "cli.acked": {"en": "Incident #{id} acknowledged by {who}.", "zh": "事件 #{id} 已由 {who} 认领。"},
    "cli.resolved": {"en": "Incident #{id} resolved by {who}.", "zh": "事件 #{id} 已由 {who} 解决。"},
    "cli.silence_created": {"en": "Silence {id} created.", "zh": "已创建静默规则 {id}。"},
    "cli.silence_expired": {"en": "Silence {id} expired.", "zh": "静默规则 {id} 已失效。"},
    "cli.sent": {"en": "Sent {count} alert(s): {new} new, {dup} duplicate.",
                 "zh": "已发送 {count} 条告警：新增 {new} 条，重复 {dup} 条。"},
    "cli.serving": {"en": "steadyops listening on http://{host}:{port} (store: {store})",
                    "zh": "steadyops 已启动：http://{host}:{port}（存储：{store}）"},
    "cli.error": {"en": "Error: {msg}", "zh": "错误：{msg}"},
    "incident.mttd": {"en": "Time to detect", "zh": "发现耗时"},
    "incident.mtta": {"en": "Time to acknowledge", "zh": "认领耗时"},
    "incident.mttr": {"en": "Time to recover", "zh": "恢复耗时"},
    "incident.timeline": {"en": "Timeline", "zh": "时间线"},
    "incident.targets": {"en": "Targets", "zh": "涉及对象"},
}


def t(key: str, lang: Lang, **kwargs: object) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**kwargs) if kwargs else text


def normalise(lang: str | None, default: Lang = "en") -> Lang:
    if not lang:
        return default
    return "zh" if lang.lower().startswith("zh") else "en"
