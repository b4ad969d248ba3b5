"""Generic JSON webhook notifier: the Notification as JSON, optionally HMAC-signed.

Receivers verify ``X-Steadyops-Signature: sha256=<hex>`` over the raw body with the shared secret,
the same scheme GitHub and many others use, so existing verification code works unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from steadyops.contracts.delivery import coerce_config, dumps, guard_secrets, http_delivery, post_json
from steadyops.contracts.notifiers import Notifier
from steadyops.core.markup import plain
from steadyops.core.models import Delivery, Notification

SIGNATURE_HEADER = "X-Steadyops-Signature"
PAYLOAD_VERSION = "1"


class WebhookConfig(BaseModel):
    """Where to POST. Every credential is a SecretStr: receivers often put a token in the URL."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr
    #: Extra headers, e.g. an API key; kept secret because that is what they usually carry.
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    #: Signs the raw body (HMAC-SHA256) so the receiver can prove the sender and the content.
    secret: SecretStr | None = None
    bearer_token: SecretStr | None = None
    timeout: float = Field(default=10.0, gt=0)


class WebhookNotifier(Notifier):
    """POST the whole Notification as JSON, for receivers steadyops does not know by name.

    The payload is the Notification's own JSON plus ``version``, so a receiver can parse it with
    the published schema and detect a future change of shape. When ``secret`` is set, the header
    ``X-Steadyops-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` lets it reject forgeries.
    """

    name: ClassVar[str] = "webhook"
    Config: ClassVar[type[BaseModel]] = WebhookConfig

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self.settings = coerce_config(WebhookConfig, config)
        self._secrets = guard_secrets(self.settings)

    def render(self, message: Notification) -> bytes:
        unmarked = message.model_copy(update={"title": plain(message.title), "text": plain(message.text)})
        return dumps({"version": PAYLOAD_VERSION, **unmarked.model_dump(mode="json")})

    def headers(self, body: bytes) -> dict[str, str]:
        cfg = self.settings
        headers = {name: value.get_secret_value() for name, value in cfg.headers.items()}
        if cfg.bearer_token is not None:
            headers["Authorization"] = f"Bearer {cfg.bearer_token.get_secret_value()}"
        if cfg.secret is not None:
            digest = hmac.new(cfg.secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        return headers

    async def send(self, message: Notification) -> Delivery:
        body = self.render(message)
        result = await post_json(self, self.settings.url.get_secret_value(), body,
                                 timeout=self.settings.timeout, headers=self.headers(body))
        if isinstance(result, Delivery):
            return result
        return http_delivery(self.name, result, self._secrets)
