"""Injection through labels and annotations: for every notifier, nothing active arrives.

An alert's labels and annotations are written by whoever can post an alert. Rendered by the
pipeline and sent through each notifier to the local receiver (and e-mail to the local SMTP server),
they must arrive as text: no link or image (no attacker URL even as auto-linkable text), no heading,
quote or list started by a value, no ``<at user_id="all">``, ``<!channel>``, ``<url|text>``, ``@all``,
no HTML tag of theirs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from steadyops.core.markup import CLOSE, OPEN
from steadyops.core.models import Alert, Notification
from steadyops.pipeline.render import render
from steadyops.plugins import load_plugins
from steadyops.testing.receiver import Receiver
from tests.harness.smtp import SMTPServer

REGISTRY = load_plugins(entry_points_too=False)
TOKEN = "tok-injection-0123456789"
DETAILS = "https://steadyops.example/incidents/7"

LABELS = {
    "alertname": "DiskFull[x](http://evil.example/a)",
    "instance": '[click me](http://evil.example/p) <at user_id="all"></at> <!channel> <http://evil.example|pwn> @all',
    "job": "![img](http://evil.example/i.png) <at id=all></at> @here <@U123> <!here>",
    "team": "#ops\n### heading from a label",
}
ANNOTATIONS = {
    "summary": "ok\n### ✅ [RESOLVED] all clear\n[done](http://evil.example/x) <a href=\"http://evil.example\">x</a> "
               "<img src=x onerror=alert(1)> www.evil.example evil.example/path mailto:a@evil.example",
    "description": "unused",
}
ALERTS = [
    Alert(labels=LABELS, annotations=ANNOTATIONS, starts_at=datetime(2026, 1, 1, tzinfo=UTC)),
    Alert(labels={"alertname": "Other", "x": "y"}, annotations={"summary": "\r\n===\n- item\n> quote\n```"},
          starts_at=datetime(2026, 1, 1, tzinfo=UTC)),
]
CONFIGS: dict[str, dict[str, Any]] = {
    "dingtalk": {"at_mobiles": []}, "wecom": {}, "feishu": {}, "slack": {}, "webhook": {},
}


def notification() -> Notification:
    return render(group_labels={"alertname": LABELS["alertname"]}, firing=ALERTS, resolved=[], lang="en",
                  incident_id=7, incident_title="[incident](http://evil.example/t) <at user_id=\"all\">",
                  group_key="k", url=DETAILS)


def assert_inert_markdown(text: str, *, allowed_tags: int = 0) -> None:
    """What a Markdown-family renderer (DingTalk, WeCom, Feishu, Slack) would make of ``text``: nothing active."""
    assert OPEN not in text and CLOSE not in text
    assert not re.search(r"evil\.example", text), "an attacker URL arrived auto-linkable"
    assert not re.search(r"\[[^\]\n]*\]\([^)\n]*evil", text), "a link or image"
    assert len(re.findall(r"<(?:at|a\s|img|!|@|http)", text, re.IGNORECASE)) <= allowed_tags, "a tag or mention"
    assert not re.search(r"(?<![＠\w])@(all|here|channel)\b", text), "an @-mention"
    for line in text.splitlines():
        assert not re.match(r"\s{0,3}#+\s.*(all clear|heading from)", line), f"a heading from a value: {line!r}"
        assert not re.match(r"\s{0,3}(=+|-+)\s*$", line), f"a setext underline from a value: {line!r}"
        assert not re.match(r"\s{0,3}(>\s*quote|-\s+item|```)", line), f"a block started by a value: {line!r}"


def _texts(name: str, body: dict[str, Any]) -> list[str]:
    if name == "dingtalk":
        return [body["markdown"]["text"], body["markdown"]["title"]]
    if name == "wecom":
        return [body["markdown"]["content"]]
    if name == "feishu":
        card = body["card"]
        return [card["header"]["title"]["content"], *(e["content"] for e in card["elements"] if e["tag"] == "markdown")]
    if name == "slack":
        blocks = body["attachments"][0]["blocks"]
        return [body["text"], *(b["text"]["text"] for b in blocks if b["type"] == "section")]
    raise AssertionError(name)


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with Receiver(token=TOKEN) as receiver:
        yield receiver


@pytest.mark.parametrize("name", ["dingtalk", "wecom", "feishu", "slack"])
async def test_chat_robots_receive_no_active_markup(name: str, rx: Receiver) -> None:
    cls = REGISTRY.notifiers.get(name)
    notifier = cls(cls.Config.model_validate({"webhook_url": rx.url(name), **CONFIGS[name]}))
    delivery = await notifier.send(notification())
    assert delivery.ok, delivery.detail
    [req] = rx.wait_for(1, vendor=name)
    texts = _texts(name, req.json())
    for text in texts:
        assert_inert_markdown(text)
    joined = "\n".join(texts)
    assert "click me" in joined and "all clear" in joined  # the values arrive, as text
    if name == "slack":
        assert all("<" not in t for t in texts), "Slack: no <…> of any kind"


async def test_webhook_receives_the_values_unmarked(rx: Receiver) -> None:
    cls = REGISTRY.notifiers.get("webhook")
    notifier = cls(cls.Config.model_validate({"url": rx.url("webhook")}))
    assert (await notifier.send(notification())).ok
    [req] = rx.wait_for(1, vendor="webhook")
    body = req.json()
    assert OPEN not in body["text"] and CLOSE not in body["text"] and OPEN not in body["title"]
    assert "[click me](http://evil.example/p)" in body["text"]  # JSON is data: the receiver escapes for itself


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_email_html_and_text_carry_no_active_markup() -> None:
    with SMTPServer() as smtp:
        cls = REGISTRY.notifiers.get("email")
        notifier = cls(cls.Config.model_validate({"host": smtp.host, "port": smtp.port, "from": "so@example.com",
                                                  "to": ["oncall@example.com"], "timeout": 5}))
        import asyncio

        assert asyncio.run(notifier.send(notification())).ok
        [mail] = smtp.wait_for(1)
    page, text = mail.body("html"), mail.body("plain")
    parser = _Tags()
    parser.feed(page)
    assert {tag for tag, _ in parser.tags} <= {"html", "head", "meta", "body", "h3", "p", "br", "strong", "a"}
    assert [a.get("href") for tag, a in parser.tags if tag == "a"] == [DETAILS]
    for part in (page, text, mail.subject):
        assert not re.search(r"evil\.example", part) and OPEN not in part and CLOSE not in part
    assert "click me" in page and "all clear" in page
