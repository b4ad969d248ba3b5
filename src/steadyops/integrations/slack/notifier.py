"""Slack incoming webhook.

Slack answers ``200 ok`` or an HTTP error with a short reason (``invalid_payload``,
``channel_is_archived``); a 429 carries ``Retry-After``. So unlike the Chinese robots, the HTTP
status alone classifies the answer. Slack's markup is mrkdwn, not Markdown, and ``&``, ``<``,
``>`` must be escaped because ``<…>`` is Slack's link and mention syntax.
"""

from __future__ import annotations

import re
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from steadyops.contracts.delivery import (
    coerce_config,
    dumps,
    guard_secrets,
    http_delivery,
    post_json,
    status_line,
)
from steadyops.contracts.notifiers import Notifier, RateLimit
from steadyops.core.markup import escape_slack, render
from steadyops.core.models import AlertStatus, Delivery, Notification, Severity

#: Slack refuses a section block whose text is longer than this (characters, not bytes).
SECTION_CHARS = 3000
_TITLE_CHARS = 150
_MARKER = "\n…(truncated)"
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
_COLOURS = {Severity.CRITICAL: "#E01E5A", Severity.WARNING: "#ECB22E", Severity.INFO: "#36C5F0"}
_RESOLVED_COLOUR = "#2EB67D"


def escape(text: str) -> str:
    """Escape the three characters Slack reserves for its own ``<link|label>`` syntax."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Light Markdown → mrkdwn: links, bold, strike-through and headings (shown bold).

    Escaping comes first so the ``<url|label>`` links made here are not escaped themselves.
    """
    text = escape(markdown)
    text = _LINK.sub(r"<\2|\1>", text)
    text = _BOLD.sub(r"*\1*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return _HEADING.sub(r"*\1*", text)


def cut(text: str, limit: int) -> str:
    """Cut to ``limit`` characters, at a line break when one is near, so a link is not split."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(_MARKER)]
    newline = head.rfind("\n")
    if newline > len(head) - 300:
        head = head[:newline]
    return head + _MARKER


class SlackConfig(BaseModel):
    """The incoming-webhook URL (hooks.slack.com/services/T…/B…/…) is the credential."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: SecretStr
    timeout: float = Field(default=10.0, gt=0)


class SlackNotifier(Notifier):
    """Post a colour-barred attachment (red/yellow/blue, green when resolved) to a Slack channel.

    The body goes in one section block, so it is cut to Slack's 3000-character section limit;
    the top-level ``text`` is what phones show in the push notification.
    """

    name: ClassVar[str] = "slack"
    Config: ClassVar[type[BaseModel]] = SlackConfig
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(1, 1.0),)

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self.settings = coerce_config(SlackConfig, config)
        self._secrets = guard_secrets(self.settings)

    def render(self, message: Notification) -> bytes:
        title = render(message.title, escape_slack, escape)[:_TITLE_CHARS]
        heading = f"*{title}*\n"
        section = heading + cut(render(message.text, escape_slack, to_mrkdwn), SECTION_CHARS - len(heading))
        blocks: list[dict[str, object]] = [{"type": "section", "text": {"type": "mrkdwn", "text": section}}]
        if message.url:
            button = {"type": "button", "url": message.url, "text": {"type": "plain_text", "text": "Details"}}
            blocks.append({"type": "actions", "elements": [button]})
        colour = _RESOLVED_COLOUR if message.status is AlertStatus.RESOLVED else _COLOURS[message.severity]
        attachment = {"color": colour, "blocks": blocks}
        return dumps({"text": f"{status_line(message)} {title}", "attachments": [attachment]})

    async def send(self, message: Notification) -> Delivery:
        result = await post_json(self, self.settings.webhook_url.get_secret_value(), self.render(message),
                                 timeout=self.settings.timeout)
        if isinstance(result, Delivery):
            return result
        return http_delivery(self.name, result, self._secrets)
