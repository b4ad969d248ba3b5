"""WeCom specifics: the 4096-byte content limit with multi-byte text."""

from __future__ import annotations

from steadyops.core.models import AlertStatus, Notification
from steadyops.integrations.wecom import WeComConfig, WeComNotifier


def test_chinese_text_is_cut_on_a_character_boundary_and_keeps_the_link() -> None:
    notifier = WeComNotifier(WeComConfig(webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    content = notifier.content(Notification(title="告警", text="磁" * 5000, url="https://s.example/i/1"))
    data = content.encode("utf-8")
    assert len(data) <= 4096
    assert data.decode("utf-8") == content  # no split character
    assert content.endswith("(https://s.example/i/1)")


def test_resolved_is_green() -> None:
    notifier = WeComNotifier(WeComConfig(webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    content = notifier.content(Notification(title="t", text="x", status=AlertStatus.RESOLVED))
    assert '<font color="info">RESOLVED</font>' in content
