"""WeCom (企业微信) group robot.

Like DingTalk it answers HTTP 200 with ``errcode`` in the body. It has no signature: the ``key``
in the webhook URL is the only credential, so the whole URL is treated as a secret. WeCom counts
the 4096-byte markdown limit on the decoded ``content`` (UTF-8), not on the request body.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from steadyops.contracts.delivery import (
    code_delivery,
    coerce_config,
    dumps,
    guard_secrets,
    post_json,
)
from steadyops.contracts.notifiers import Notifier, RateLimit, truncate_utf8
from steadyops.core.markup import escape_markdown, render
from steadyops.core.models import AlertStatus, Delivery, Notification, Severity

#: -1 is "system busy"; 45009 is "api freq out of limit".
RETRYABLE_ERRCODES = frozenset({-1, 45009})
_TITLE_CHARS = 100


def _colour(message: Notification) -> str:
    # WeCom markdown knows three font colours: info (green), comment (grey), warning (orange-red).
    if message.status is AlertStatus.RESOLVED:
        return "info"
    return "comment" if message.severity is Severity.INFO else "warning"


class WeComConfig(BaseModel):
    """The webhook URL (…/cgi-bin/webhook/send?key=…) is the robot's only credential."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: SecretStr
    timeout: float = Field(default=10.0, gt=0)


class WeComNotifier(Notifier):
    """Send a markdown message to a WeCom group robot.

    The body text is cut so the whole markdown content, header and link included, stays within
    4096 bytes; the link to the incident is kept because it is where the full text lives.
    """

    name: ClassVar[str] = "wecom"
    Config: ClassVar[type[BaseModel]] = WeComConfig
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(20, 60.0),)
    max_bytes: ClassVar[int | None] = 4096

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self.settings = coerce_config(WeComConfig, config)
        self._secrets = guard_secrets(self.settings)

    def content(self, message: Notification) -> str:
        status = "resolved" if message.status is AlertStatus.RESOLVED else message.severity.value
        badge = f'<font color="{_colour(message)}">{status.upper()}</font>'
        head = f"### {render(message.title, escape_markdown)[:_TITLE_CHARS]}\n{badge}\n\n"
        tail = f"\n\n[Details / 详情]({message.url})" if message.url else ""
        budget = (self.max_bytes or 4096) - len((head + tail).encode("utf-8"))
        return head + truncate_utf8(render(message.text, escape_markdown), max(budget, 0)) + tail

    def render(self, message: Notification) -> bytes:
        return dumps({"msgtype": "markdown", "markdown": {"content": self.content(message)}})

    async def send(self, message: Notification) -> Delivery:
        result = await post_json(self, self.settings.webhook_url.get_secret_value(), self.render(message),
                                 timeout=self.settings.timeout)
        if isinstance(result, Delivery):
            return result
        return code_delivery(self.name, result, self._secrets, code_keys=("errcode",),
                             message_keys=("errmsg",), retryable_codes=RETRYABLE_ERRCODES)
