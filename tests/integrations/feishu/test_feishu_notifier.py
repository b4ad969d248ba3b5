"""Feishu specifics: card colours and both answer dialects."""

from __future__ import annotations

import pytest

from steadyops.core.models import AlertStatus, Notification, Severity
from steadyops.integrations.feishu import FeishuConfig, FeishuNotifier
from steadyops.testing.receiver import Receiver


@pytest.mark.parametrize(
    ("severity", "status", "colour"),
    [(Severity.CRITICAL, AlertStatus.FIRING, "red"), (Severity.WARNING, AlertStatus.FIRING, "orange"),
     (Severity.INFO, AlertStatus.FIRING, "blue"), (Severity.CRITICAL, AlertStatus.RESOLVED, "green")],
)
async def test_the_card_header_is_coloured_by_severity_and_status(
    severity: Severity, status: AlertStatus, colour: str
) -> None:
    with Receiver() as rx:
        notifier = FeishuNotifier(FeishuConfig(webhook_url=rx.url("feishu")))
        assert (await notifier.send(Notification(title="t", text="# 标题\nx", severity=severity, status=status))).ok
        card = rx.requests[0].json()["card"]
    assert card["header"]["template"] == colour
    assert card["elements"][0]["content"].startswith("**标题**")  # headings become bold


@pytest.mark.parametrize(
    ("answer", "ok", "retryable"),
    [({"StatusCode": 0, "StatusMessage": "success"}, True, False),
     ({"code": 19024, "msg": "Key Words Not Found"}, False, False),
     ({"code": 11232, "msg": "frequency limited"}, False, True)],
)
async def test_both_answer_dialects_are_understood(answer: dict[str, object], ok: bool, retryable: bool) -> None:
    with Receiver() as rx:
        rx.respond_next(200, body=answer)
        notifier = FeishuNotifier(FeishuConfig(webhook_url=rx.url("feishu")))
        delivery = await notifier.send(Notification(title="t", text="x"))
    assert (delivery.ok, delivery.retryable) == (ok, retryable)
