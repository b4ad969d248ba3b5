"""Feishu / Lark (飞书) custom group bot.

Feishu's signature is unusual: the string ``"<timestamp>\\n<secret>"`` is the HMAC *key* and the
message is empty. The timestamp (seconds) and the signature travel in the JSON body, and Feishu
refuses a timestamp more than an hour away from its clock (code 19021), so both are made per send.
Answers are HTTP 200 with ``code`` (older deployments: ``StatusCode``) in the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from steadyops.contracts.delivery import (
    code_delivery,
    coerce_config,
    fit_json,
    guard_secrets,
    post_json,
    status_line,
)
from steadyops.contracts.notifiers import Notifier, RateLimit
from steadyops.core.markup import escape_markdown, render
from steadyops.core.models import AlertStatus, Delivery, Notification, Severity

#: 11232 is Feishu's "frequency limited"; 9499 can be a transient gateway answer but is also
#: "Bad Request", so it stays final.
RETRYABLE_CODES = frozenset({11232})
_TITLE_CHARS = 100
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


def sign(secret: str, timestamp: int) -> str:
    """base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg=b"")), as Feishu documents it."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def template(message: Notification) -> str:
    """Card header colour: red for critical, orange for warning, blue for info, green when resolved."""
    if message.status is AlertStatus.RESOLVED:
        return "green"
    return {Severity.CRITICAL: "red", Severity.WARNING: "orange", Severity.INFO: "blue"}[message.severity]


def to_lark_md(markdown: str) -> str:
    """Card markdown has no headings; show them bold so the structure survives."""
    return _HEADING.sub(r"**\1**", markdown)


class FeishuConfig(BaseModel):
    """The hook URL (…/open-apis/bot/v2/hook/<token>) embeds the bot's token: a secret."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: SecretStr
    #: The "签名校验" secret; when set, every message carries ``timestamp`` and ``sign``.
    secret: SecretStr | None = None
    timeout: float = Field(default=10.0, gt=0)


class FeishuNotifier(Notifier):
    """Send an interactive card, coloured by severity, to a Feishu custom bot.

    Feishu allows 100 messages a minute and 5 a second per bot and refuses bodies over 20 KB,
    so both limits are declared and the text is cut to keep the whole body under 20 000 bytes.
    """

    name: ClassVar[str] = "feishu"
    Config: ClassVar[type[BaseModel]] = FeishuConfig
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(5, 1.0), RateLimit(100, 60.0))
    max_bytes: ClassVar[int | None] = 20_000

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self.settings = coerce_config(FeishuConfig, config)
        self._secrets = guard_secrets(self.settings)

    def render(self, message: Notification, *, now: int | None = None) -> bytes:
        envelope: dict[str, object] = {}
        if self.settings.secret is not None:
            ts = int(time.time()) if now is None else now
            envelope = {"timestamp": str(ts), "sign": sign(self.settings.secret.get_secret_value(), ts)}
        title = f"{status_line(message)} {render(message.title, escape_markdown)[:_TITLE_CHARS]}"
        header = {"template": template(message), "title": {"tag": "plain_text", "content": title}}
        actions: list[dict[str, object]] = []
        if message.url:
            button = {"tag": "button", "type": "primary", "url": message.url,
                      "text": {"tag": "plain_text", "content": "Details / 详情"}}
            actions.append({"tag": "action", "actions": [button]})

        def build(text: str) -> dict[str, object]:
            elements = [{"tag": "markdown", "content": text}, *actions]
            card = {"config": {"wide_screen_mode": True}, "header": header, "elements": elements}
            return {**envelope, "msg_type": "interactive", "card": card}

        return fit_json(build, render(message.text, escape_markdown, to_lark_md), self.max_bytes)

    async def send(self, message: Notification) -> Delivery:
        result = await post_json(self, self.settings.webhook_url.get_secret_value(), self.render(message),
                                 timeout=self.settings.timeout)
        if isinstance(result, Delivery):
            return result
        return code_delivery(self.name, result, self._secrets, code_keys=("code", "StatusCode"),
                             message_keys=("msg", "StatusMessage"), retryable_codes=RETRYABLE_CODES)
