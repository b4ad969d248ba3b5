"""DingTalk specifics the shared conformance suite does not reach."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from steadyops.core.models import Notification
from steadyops.integrations.dingtalk import DingTalkConfig, DingTalkNotifier
from steadyops.testing.receiver import Receiver

SECRET = "SEC-dingtalk-0123456789"


async def test_a_stale_timestamp_is_refused_like_a_bad_signature() -> None:
    # The vendor's clock is two hours ahead: a correct HMAC over an old timestamp must fail.
    with Receiver(secrets={"dingtalk": SECRET}, clock=lambda: time.time() + 7200) as rx:
        notifier = DingTalkNotifier(DingTalkConfig(webhook_url=rx.url("dingtalk"), secret=SECRET))
        delivery = await notifier.send(Notification(title="t", text="x"))
    assert not delivery.ok and not delivery.retryable
    assert "310000" in delivery.detail and rx.requests[0].reason.startswith("errcode 310000")


async def test_at_mobiles_are_named_in_the_text_so_dingtalk_highlights_them() -> None:
    with Receiver() as rx:
        config = DingTalkConfig(webhook_url=rx.url("dingtalk"), at_mobiles=["13800000000"], at_all=False)
        assert (await DingTalkNotifier(config).send(Notification(title="t", text="x"))).ok
        body = rx.requests[0].json()
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert body["markdown"]["text"].endswith("@13800000000")


def test_a_channel_entry_from_yaml_is_accepted_and_typos_are_not() -> None:
    class Channel(BaseModel):  # the shape of config.ChannelConfig: ``type`` plus the plugin's keys
        model_config = ConfigDict(extra="allow")
        type: str

    ok = DingTalkNotifier(Channel.model_validate({"type": "dingtalk", "webhook_url": "https://x/robot/send"}))
    assert ok.settings.webhook_url.get_secret_value() == "https://x/robot/send"
    with pytest.raises(ValidationError, match="secert"):
        DingTalkNotifier(Channel.model_validate({"type": "dingtalk", "webhook_url": "https://x", "secert": "s"}))


def test_the_webhook_url_is_not_shown_in_reprs() -> None:
    config = DingTalkConfig(webhook_url="https://oapi.dingtalk.com/robot/send?access_token=abcdef123456")
    assert "abcdef123456" not in repr(config) and "abcdef123456" not in str(config.model_dump())
