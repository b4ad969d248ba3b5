"""Feishu / Lark (飞书) custom bot notifier."""

from __future__ import annotations

from steadyops.integrations.feishu.notifier import FeishuConfig, FeishuNotifier
from steadyops.plugins import Registry

__all__ = ["FeishuConfig", "FeishuNotifier", "register"]


def register(registry: Registry) -> None:
    registry.add_notifier(FeishuNotifier)
