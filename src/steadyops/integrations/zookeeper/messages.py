"""zh / en strings of the ``zk检测`` report, side by side so a missing translation shows in review.

Kept inside the integration (not in :mod:`steadyops.core.i18n`) because only this report uses them and
a plugin must not need a change in the core to speak a language. Check summaries themselves stay
in English: they quote the server's words, which are English.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

MESSAGES: dict[str, dict[str, str]] = {
    "section": {"en": "ZooKeeper localisation (zk检测)", "zh": "ZooKeeper 故障定位（zk检测）"},
    "title": {"en": "ZooKeeper inspection (zk检测): {targets} target(s), overall {status}",
              "zh": "ZooKeeper 检测（zk检测）：{targets} 个目标，总体{status}"},
    "title.service": {"en": " (the service: {status})", "zh": "（服务整体：{status}）"},
    "no_targets": {"en": "No ZooKeeper target matched {scope}.", "zh": "没有匹配 {scope} 的 ZooKeeper 目标。"},
    "all": {"en": "the inventory", "zh": "清单"},
    "ensemble.ok": {"en": "cluster {cluster}: all {size} members serve (quorum {quorum})",
                    "zh": "集群 {cluster}：{size} 个成员全部在服务（法定人数 {quorum}）"},
    "ensemble.degraded": {"en": "cluster {cluster}: quorum held, {serving} of {size} members serve (quorum {quorum}); "
                                "{tolerated} more failure(s) tolerated",
                          "zh": "集群 {cluster}：法定人数保持，{size} 个成员中 {serving} 个在服务（需要 {quorum} 个）；"
                                "还能容忍 {tolerated} 个故障"},
    "ensemble.lost": {"en": "cluster {cluster}: QUORUM LOST, {serving} of {size} members serve, {quorum} needed; "
                            "the service is down",
                      "zh": "集群 {cluster}：法定人数丢失，{size} 个成员中仅 {serving} 个在服务（需要 {quorum} 个），"
                            "服务不可用"},
    "ensemble.partial": {"en": "cluster {cluster}: only {inspected} of {size} members inspected, {serving} serving; "
                               "quorum ({quorum}) cannot be judged from this view (inspect the whole cluster)",
                         "zh": "集群 {cluster}：仅检测了 {size} 个成员中的 {inspected} 个，{serving} 个在服务；"
                               "无法据此判断法定人数（需要 {quorum} 个），请检测整个集群"},
    "ensemble.members_unwell": {"en": "; members with problems: {members}", "zh": "；有问题的成员：{members}"},
    "standalone": {"en": "standalone", "zh": "单机"},
    "target.ok": {"en": "{name} ({address}) {role}: healthy, {checks} checks passed",
                  "zh": "{name}（{address}）{role}：正常，{checks} 项检查通过"},
    "target.failed": {"en": "{name} ({address}) {role}: {status}, failed layer: {layer}",
                      "zh": "{name}（{address}）{role}：{status}，故障层：{layer}"},
    "target.also": {"en": "also failing: {layers}", "zh": "其他异常层：{layers}"},
    "more_unanswered": {"en": "… and {count} more check(s) that could not get an answer for the same reason",
                        "zh": "……另有 {count} 项检查因同一原因无法获得应答"},
    "evidence": {"en": "evidence", "zh": "证据"},
    "runbook": {"en": "runbook", "zh": "处置手册"},
    "role.unknown": {"en": "role unknown", "zh": "角色未知"},
    "status.ok": {"en": "OK", "zh": "正常"},
    "status.warning": {"en": "WARNING", "zh": "警告"},
    "status.critical": {"en": "CRITICAL", "zh": "严重"},
    "status.unknown": {"en": "UNKNOWN", "zh": "未知"},
    "layer.host": {"en": "host", "zh": "主机"},
    "layer.network": {"en": "network", "zh": "网络"},
    "layer.process": {"en": "process", "zh": "进程"},
    "layer.quorum": {"en": "quorum", "zh": "集群仲裁"},
    "layer.disk": {"en": "disk", "zh": "磁盘"},
    "layer.load": {"en": "load", "zh": "负载"},
    "layer.config": {"en": "config", "zh": "配置"},
    "layer.other": {"en": "unlocated", "zh": "未定位"},
    "role.leader": {"en": "leader", "zh": "leader（主）"},
    "role.follower": {"en": "follower", "zh": "follower（从）"},
    "role.observer": {"en": "observer", "zh": "observer（观察者）"},
    "role.standalone": {"en": "standalone", "zh": "standalone（单机）"},
    "role.read-only": {"en": "read-only", "zh": "只读"},
}


def msg(key: str, lang: Lang = "zh", **params: object) -> str:
    """The message in ``lang`` (English if that translation is missing), formatted with ``params``."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return (entry.get(lang) or entry["en"]).format(**params)
