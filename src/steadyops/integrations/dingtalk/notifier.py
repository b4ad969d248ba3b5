"""DingTalk (钉钉) custom group robot.

The robot answers HTTP 200 even when it refuses a message; the verdict is ``errcode`` in the body.
A robot with "加签" security needs ``timestamp`` (ms) and ``sign`` query parameters on every call;
DingTalk rejects a timestamp more than an hour old, so the signature is computed per send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from steadyops.core.models import Delivery, Notification

#: -1 is "system busy"; 130101 and 410100 are DingTalk's "send too fast" answers.
RETRYABLE_ERRCODES = frozenset({-1, 130101, 410100})
_TITLE_CHARS = 100


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>")).

    Returned un-encoded; httpx percent-encodes it as a query value (``+`` and ``/`` must be).
    """
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkConfig(BaseModel):
    """A robot's webhook URL carries its access_token, so the whole URL is a secret."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: SecretStr
    #: The "加签" secret (starts with SEC); without it the robot must use keywords or an IP list.
    secret: SecretStr | None = None
    #: Mobiles to @; DingTalk only highlights them if ``@<mobile>`` also appears in the text.
    at_mobiles: list[str] = Field(default_factory=list)
    at_all: bool = False
    timeout: float = Field(default=10.0, gt=0)


class DingTalkNotifier(Notifier):
    """Send a markdown message to a DingTalk group robot, signed when a secret is configured.

    DingTalk allows 20 messages a minute per robot and then mutes it for ten minutes, which is why
    the limit is declared for the dispatcher to enforce before DingTalk does.
    """

    name: ClassVar[str] = "dingtalk"
    Config: ClassVar[type[BaseModel]] = DingTalkConfig
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(20, 60.0),)
    max_bytes: ClassVar[int | None] = 20_000

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self.settings = coerce_config(DingTalkConfig, config)
        self._secrets = guard_secrets(self.settings)

    def render(self, message: Notification) -> bytes:
        cfg = self.settings
        title = render(message.title, escape_markdown)[:_TITLE_CHARS]  # labels in it are escaped, then cut
        head = f"### {status_line(message)} {title}\n\n"
        tail = f"\n\n[Details / 详情]({message.url})" if message.url else ""
        if cfg.at_mobiles:
            tail += "\n\n" + " ".join(f"@{m}" for m in cfg.at_mobiles)

        def build(text: str) -> dict[str, object]:
            return {
                "msgtype": "markdown",
                "markdown": {"title": title, "text": head + text + tail},
                "at": {"atMobiles": cfg.at_mobiles, "isAtAll": cfg.at_all},
            }

        return fit_json(build, render(message.text, escape_markdown), self.max_bytes)

    def url(self) -> httpx.URL:
        url = httpx.URL(self.settings.webhook_url.get_secret_value())
        if self.settings.secret is None:
            return url
        ts = int(time.time() * 1000)
        signature = sign(self.settings.secret.get_secret_value(), ts)
        return url.copy_merge_params({"timestamp": str(ts), "sign": signature})

    async def send(self, message: Notification) -> Delivery:
        try:
            url = self.url()
        except httpx.InvalidURL:
            return Delivery(ok=False, retryable=False, detail="dingtalk: the configured URL is invalid")
        result = await post_json(self, url, self.render(message), timeout=self.settings.timeout)
        if isinstance(result, Delivery):
            return result
        return code_delivery(self.name, result, self._secrets, code_keys=("errcode",),
                             message_keys=("errmsg",), retryable_codes=RETRYABLE_ERRCODES)
