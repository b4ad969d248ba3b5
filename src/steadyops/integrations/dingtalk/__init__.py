"""DingTalk (钉钉) group robot notifier."""

from __future__ import annotations

from steadyops.integrations.dingtalk.notifier import DingTalkConfig, DingTalkNotifier
from steadyops.plugins import Registry

__all__ = ["DingTalkConfig", "DingTalkNotifier", "register"]


def register(registry: Registry) -> None:
    registry.add_notifier(DingTalkNotifier)
