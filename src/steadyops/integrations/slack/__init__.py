"""Slack incoming-webhook notifier."""

from __future__ import annotations

from steadyops.integrations.slack.notifier import SlackConfig, SlackNotifier
from steadyops.plugins import Registry

__all__ = ["SlackConfig", "SlackNotifier", "register"]


def register(registry: Registry) -> None:
    registry.add_notifier(SlackNotifier)
