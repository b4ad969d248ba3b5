"""WeCom (企业微信) group robot notifier."""

from __future__ import annotations

from steadyops.integrations.wecom.notifier import WeComConfig, WeComNotifier
from steadyops.plugins import Registry

__all__ = ["WeComConfig", "WeComNotifier", "register"]


def register(registry: Registry) -> None:
    registry.add_notifier(WeComNotifier)
