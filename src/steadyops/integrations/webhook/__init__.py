"""Generic JSON webhook: POST every notification, optionally signed, to any HTTP receiver."""

from __future__ import annotations

from steadyops.integrations.webhook.notifier import WebhookConfig, WebhookNotifier
from steadyops.plugins import Registry

__all__ = ["WebhookConfig", "WebhookNotifier", "register"]


def register(registry: Registry) -> None:
    registry.add_notifier(WebhookNotifier)
