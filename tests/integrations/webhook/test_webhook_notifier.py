"""Generic webhook specifics, and the shared HTTP helpers that live beside it."""

from __future__ import annotations

import hashlib
import hmac
import json

from steadyops.contracts.delivery import fit_json
from steadyops.core.models import Notification
from steadyops.integrations.webhook import WebhookConfig, WebhookNotifier
from steadyops.testing.receiver import Receiver


async def test_payload_is_the_notification_plus_version_signed_over_the_raw_body() -> None:
    with Receiver(token="hook-token-0001") as rx:
        config = WebhookConfig(url=rx.url("webhook"), secret="s3cret-value", headers={"X-Team": "sre"})
        message = Notification(title="磁盘", text="x", incident_id=7)
        assert (await WebhookNotifier(config).send(message)).ok
        req = rx.requests[0]
    body = req.json()
    assert body["version"] == "1" and body["incident_id"] == 7 and body["title"] == "磁盘"
    expected = hmac.new(b"s3cret-value", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-steadyops-signature"] == f"sha256={expected}"
    assert req.headers["x-team"] == "sre"


def test_fit_json_accounts_for_escaping() -> None:
    text = '"\n\\' * 10_000  # every character doubles when escaped
    body = fit_json(lambda t: {"text": t}, text, 5000)
    assert 4500 < len(body) <= 5000  # cut to fit, not cut to nothing
    assert json.loads(body)["text"].endswith("…(truncated)")
