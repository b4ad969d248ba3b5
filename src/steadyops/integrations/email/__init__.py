"""E-mail notifier over SMTP."""

from __future__ import annotations

from steadyops.integrations.email.notifier import EmailConfig, EmailNotifier
from steadyops.plugins import Registry

__all__ = ["EmailConfig", "EmailNotifier", "register"]


def register(registry: Registry) -> None:
    registry.add_notifier(EmailNotifier)
