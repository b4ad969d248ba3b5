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
    "cli.plugins_loaded": {"en": "{count} plugin module(s) loaded:", "zh": "已加载 {count} 个插件模块："},
    "cli.notifiers": {"en": "Notifier types:", "zh": "通知渠道类型："},
    "act.bad_param": {"en": "parameter {item!r} is not key=value", "zh": "参数 {item!r} 不是 key=value 形式"},
    "act.plan_header": {"en": "Plan #{id}: {action} on {target} (risk: {risk})",
                        "zh": "处置计划 #{id}：{action} → {target}（风险：{risk}）"},
    "act.effect": {"en": "Expected effect: {effect}", "zh": "预期效果：{effect}"},
    "act.plan_hash": {"en": "Plan hash: {hash}…", "zh": "计划指纹：{hash}…"},
    "act.rollback": {"en": "Rollback:", "zh": "回滚方案："},
    "act.col.n": {"en": "#", "zh": "序号"},
    "act.col.kind": {"en": "Kind", "zh": "类型"},
    "act.col.step": {"en": "Step", "zh": "步骤"},
    "act.col.action": {"en": "Action", "zh": "动作"},
    "act.col.target": {"en": "Target", "zh": "目标"},
    "act.col.by": {"en": "Requested by", "zh": "申请人"},
    "act.risk.low": {"en": "low", "zh": "低"},
    "act.risk.medium": {"en": "medium", "zh": "中"},
    "act.risk.high": {"en": "high", "zh": "高"},
    "act.status": {"en": "Run #{id}: {status} ({got}/{need} approvals)",
                   "zh": "处置 #{id}：{status}（已审批 {got}/{need}）"},
    "act.state.pending_approval": {"en": "waiting for approval", "zh": "待审批"},
    "act.state.approved": {"en": "approved", "zh": "已批准"},
    "act.state.rejected": {"en": "rejected", "zh": "已驳回"},
    "act.state.running": {"en": "running", "zh": "执行中"},
    "act.state.succeeded": {"en": "succeeded", "zh": "成功"},
    "act.state.failed": {"en": "failed", "zh": "失败"},
    "act.state.rolled_back": {"en": "failed and rolled back", "zh": "失败并已回滚"},
    "act.confirm": {"en": "Apply this plan now?", "zh": "现在执行该计划吗？"},
    "act.confirm_hint": {"en": "Not a terminal: run `steadyops act apply {id}` or pass --yes.",
                         "zh": "非交互终端：请执行 `steadyops act apply {id}` 或加 --yes。"},
    "act.done": {"en": "Done: {summary} (freed {freed} bytes)", "zh": "完成：{summary}（释放 {freed} 字节）"},
    "act.failed": {"en": "Failed: {summary}", "zh": "失败：{summary}"},
    "audit.ok": {"en": "Audit log intact: {n} entries, head {head}…", "zh": "审计日志完整：共 {n} 条，链头 {head}…"},
    "audit.bad": {"en": "Audit log TAMPERED: {n} problem(s)", "zh": "审计日志被篡改：发现 {n} 处问题"},
    "audit.checkpoint": {"en": "Checkpoint written to {path} (entry #{seq})",
                         "zh": "检查点已写入 {path}（第 {seq} 条）"},
    "cli.error": {"en": "Error: {msg}", "zh": "错误：{msg}"},
    "incident.mttd": {"en": "Time to detect", "zh": "发现耗时"},
    "incident.mtta": {"en": "Time to acknowledge", "zh": "认领耗时"},
    "incident.mttr": {"en": "Time to recover", "zh": "恢复耗时"},
    "incident.timeline": {"en": "Timeline", "zh": "时间线"},
    "incident.targets": {"en": "Targets", "zh": "涉及对象"},
    "col.fingerprint": {"en": "Fingerprint", "zh": "指纹"},
    "col.name": {"en": "Alert", "zh": "告警名称"},
    "col.labels": {"en": "Labels", "zh": "标签"},
    "col.started": {"en": "Started", "zh": "触发时间"},
    "col.incident": {"en": "Incident", "zh": "事件"},
    "col.muted": {"en": "Muted by", "zh": "屏蔽原因"},
    "col.starts": {"en": "Starts", "zh": "生效时间"},
    "col.state": {"en": "State", "zh": "状态"},
    "col.time": {"en": "Time", "zh": "时间"},
    "col.event": {"en": "Event", "zh": "动作"},
    "col.actor": {"en": "By", "zh": "操作人"},
    "col.detail": {"en": "Detail", "zh": "详情"},
    "cli.no_alerts": {"en": "No alerts.", "zh": "没有告警。"},
    "cli.bad_pair": {"en": "{what} '{value}' must look like name=value",
                     "zh": "{what} “{value}” 的格式应为 名称=值"},
    "cli.send_needs_input": {"en": "give at least one --label name=value, or --file",
                             "zh": "请至少提供一个 --label 名称=值，或使用 --file"},
    "cli.file_or_labels": {"en": "use either --file or --label/--annotation, not both",
                           "zh": "--file 与 --label/--annotation 只能二选一"},
    "cli.cannot_read": {"en": "cannot read {path}: {reason}", "zh": "无法读取 {path}：{reason}"},
    "cli.bad_status": {"en": "unknown status '{value}'; use one of: {choices}",
                       "zh": "未知状态“{value}”，可选：{choices}"},
    "cli.need_by": {"en": "cannot tell who you are; pass --by NAME", "zh": "无法确定操作人，请用 --by 指定"},
    "cli.silence_updated": {"en": "Silence {id} updated.", "zh": "静默规则 {id} 已更新。"},
    "cli.nothing_to_update": {"en": "nothing to change; give at least one option",
                              "zh": "没有要修改的内容，请至少提供一个选项"},
    "silence.state.active": {"en": "active", "zh": "生效中"},
    "silence.state.pending": {"en": "pending", "zh": "待生效"},
    "silence.state.expired": {"en": "expired", "zh": "已失效"},
    "incident.first_alert": {"en": "First alert", "zh": "首条告警"},
    "incident.acknowledged_by": {"en": "Acknowledged by", "zh": "认领人"},
    "incident.resolved_by": {"en": "Resolved by", "zh": "解决人"},
    "incident.alerts": {"en": "Alerts ({count})", "zh": "告警（{count}）"},
    "incident.event.opened": {"en": "opened", "zh": "创建"},
    "incident.event.alert_joined": {"en": "alert joined", "zh": "告警加入"},
    "incident.event.acknowledged": {"en": "acknowledged", "zh": "认领"},
    "incident.event.resolved": {"en": "resolved", "zh": "解决"},
    "incident.event.notified": {"en": "notified", "zh": "已通知"},
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
