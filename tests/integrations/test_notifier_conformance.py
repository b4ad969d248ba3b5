"""One conformance suite for every notifier the registry knows (Alertmanager's habit).

Each HTTP notifier is pointed at the local receiver, which verifies signatures and limits the way
the vendor does; e-mail goes to a local aiosmtpd server. A notifier added to BUILTIN_PLUGINS
without a row in HTTP_CASES (or e-mail handling) fails ``test_every_notifier_is_covered``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from steadyops.contracts.notifiers import Notifier
from steadyops.core.models import AlertStatus, Delivery, Notification, Severity
from steadyops.plugins import load_plugins
from steadyops.testing.receiver import ReceivedRequest, Receiver
from tests.harness.smtp import SMTPServer

REGISTRY = load_plugins(entry_points_too=False)
NAMES = REGISTRY.notifiers.names()

TOKEN = "tok-5f1d9c3a7e2b4d60"
SECRET = "SEC-sign-8a7b6c5d4e3f"
BEARER = "bearer-0c9d8e7f6a5b"
PASSWORD = "pw-3e4f5a6b7c8d"
SMTP_USER = "alerts"

LONG_TEXT = "\n\n".join(
    f"**{i}. 磁盘使用率过高 disk usage high** on `db-{i}`: /data 97% (阈值 90%), "
    f'see [runbook](https://runbooks.example/disk?id={i}&lang=zh) "quoted" <tag>'
    for i in range(600)
)
MESSAGE = Notification(
    title="[FIRING:3] 磁盘告警 DiskFull 生产集群",
    text=LONG_TEXT,
    severity=Severity.CRITICAL,
    status=AlertStatus.FIRING,
    incident_id=42,
    url="https://steadyops.example/incidents/42",
)


def _json_size(req: ReceivedRequest) -> int:
    return len(req.body)


def _wecom_content(req: ReceivedRequest) -> int:
    return len(req.json()["markdown"]["content"].encode("utf-8"))


def _slack_section(req: ReceivedRequest) -> int:
    blocks = req.json()["attachments"][0]["blocks"]
    return max(len(b["text"]["text"]) for b in blocks if b["type"] == "section")


@dataclass(frozen=True)
class HttpCase:
    """How to configure one vendor, and what the vendor limits."""

    config: Callable[[str, str | None], dict[str, Any]]  # (url, secret) -> Config fields
    signed: bool
    measure: Callable[[ReceivedRequest], int]
    limit: int
    busy: dict[str, Any] | None = None  # the vendor's HTTP-200 "send too fast" answer


HTTP_CASES: dict[str, HttpCase] = {
    "dingtalk": HttpCase(lambda url, s: {"webhook_url": url, "secret": s, "at_mobiles": ["13800000000"]},
                         True, _json_size, 20_000, {"errcode": 130101, "errmsg": "send too fast"}),
    "wecom": HttpCase(lambda url, s: {"webhook_url": url}, False, _wecom_content, 4096,
                      {"errcode": 45009, "errmsg": "api freq out of limit"}),
    "feishu": HttpCase(lambda url, s: {"webhook_url": url, "secret": s}, True, _json_size, 20 * 1024,
                       {"code": 11232, "msg": "frequency limited"}),
    "slack": HttpCase(lambda url, s: {"webhook_url": url}, False, _slack_section, 3000),
    "webhook": HttpCase(lambda url, s: {"url": url, "secret": s, "bearer_token": BEARER,
                                        "headers": {"X-Api-Key": "k-" + TOKEN}},
                        True, _json_size, 1 << 20),
}
HTTP_NAMES = [n for n in NAMES if n in HTTP_CASES]
SIGNED = [n for n in HTTP_NAMES if HTTP_CASES[n].signed]
SECRETS = (TOKEN, SECRET, BEARER, PASSWORD)


def make(name: str, url: str, secret: str | None = SECRET, **extra: Any) -> Notifier:
    cls = REGISTRY.notifiers.get(name)
    config = cls.Config.model_validate({**HTTP_CASES[name].config(url, secret), **extra})
    return cls(config)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked: {text[:300]!r}"


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with Receiver(token=TOKEN, secrets=dict.fromkeys(("dingtalk", "feishu", "webhook"), SECRET),
                  bearer_token=BEARER) as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer(credentials=(SMTP_USER, PASSWORD)) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


RECIPIENTS = ["oncall@example.com", "dba@example.com"]


def email_notifier(smtp: SMTPServer, *, port: int | None = None, password: str = PASSWORD,
                   to: list[str] = RECIPIENTS) -> Notifier:
    cls = REGISTRY.notifiers.get("email")
    config = cls.Config.model_validate({
        "host": smtp.host, "port": port or smtp.port, "username": SMTP_USER, "password": password,
        "from": "steadyops@example.com", "to": to, "timeout": 5,
    })
    return cls(config)


# -- every notifier -----------------------------------------------------------------------------

def test_every_notifier_is_covered() -> None:
    assert set(NAMES) == set(HTTP_CASES) | {"email"}


@pytest.mark.parametrize("name", NAMES)
def test_documented_with_a_config(name: str) -> None:
    cls = REGISTRY.notifiers.get(name)
    assert cls.name == name
    assert (cls.__doc__ or "").strip(), f"{name} needs a docstring saying what it sends and why"
    assert (cls.Config.__doc__ or "").strip()
    assert all(limit.count > 0 and limit.per_seconds > 0 for limit in cls.rate_limits)


# -- HTTP notifiers -----------------------------------------------------------------------------

@pytest.mark.parametrize("injected", [False, True], ids=["own-client", "injected-client"])
@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_delivers_and_the_vendor_accepts(name: str, injected: bool, rx: Receiver,
                                               client: httpx.AsyncClient) -> None:
    cls = REGISTRY.notifiers.get(name)
    notifier = cls(make(name, rx.url(name)).config, client if injected else None)
    delivery = await notifier.send(MESSAGE)
    [req] = rx.requests
    assert req.accepted, req.reason
    assert delivery.ok and not delivery.detail, delivery
    case = HTTP_CASES[name]
    assert case.measure(req) <= case.limit
    assert cls.max_bytes is None or case.measure(req) <= cls.max_bytes
    assert "磁盘使用率过高" in req.text and "disk usage high" in req.text


@pytest.mark.parametrize("name", SIGNED)
@pytest.mark.parametrize("secret", ["SEC-wrong-secret", None], ids=["wrong-secret", "no-secret"])
async def test_a_bad_signature_is_refused_and_final(name: str, secret: str | None, rx: Receiver) -> None:
    delivery = await make(name, rx.url(name), secret).send(MESSAGE)
    [req] = rx.requests
    assert not req.accepted
    assert not delivery.ok and not delivery.retryable, delivery


@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_a_wrong_token_is_refused_and_final(name: str, rx: Receiver) -> None:
    delivery = await make(name, rx.url(name, token="tok-unknown-000000")).send(MESSAGE)
    assert not rx.requests[0].accepted
    assert not delivery.ok and not delivery.retryable, delivery


@pytest.mark.parametrize(
    ("status", "retry_after", "retryable"),
    [(429, 7.0, True), (500, None, True), (503, 2.5, True), (400, None, False), (404, None, False)],
)
@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_http_status_decides_retry(name: str, status: int, retry_after: float | None, retryable: bool,
                                         rx: Receiver) -> None:
    rx.respond_next(status, retry_after=retry_after)
    delivery = await make(name, rx.url(name)).send(MESSAGE)
    assert not delivery.ok
    assert delivery.retryable is retryable
    assert delivery.status_code == status
    assert delivery.retry_after == retry_after


@pytest.mark.parametrize("name", [n for n in HTTP_NAMES if HTTP_CASES[n].busy])
async def test_vendor_send_too_fast_code_is_retryable(name: str, rx: Receiver) -> None:
    rx.respond_next(200, body=HTTP_CASES[name].busy)
    delivery = await make(name, rx.url(name)).send(MESSAGE)
    assert not delivery.ok and delivery.retryable, delivery


@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_connection_refused_is_retryable(name: str, rx: Receiver) -> None:
    delivery = await make(name, rx.refused_url(name)).send(MESSAGE)
    assert not delivery.ok and delivery.retryable
    assert "127.0.0.1" in delivery.detail  # the host helps an operator; the path would leak a token
    assert_no_secret(delivery.detail)


@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_a_timeout_is_retryable(name: str, rx: Receiver) -> None:
    rx.respond_next(200, delay=0.5)
    delivery = await make(name, rx.url(name), timeout=0.1).send(MESSAGE)
    assert not delivery.ok and delivery.retryable, delivery


@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_no_secret_in_logs_or_details(name: str, rx: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    details: list[str] = []
    notifier = make(name, rx.url(name))
    details.append((await notifier.send(MESSAGE)).detail)
    for status in (500, 429, 400):
        rx.respond_next(status, body=b"upstream error")
        details.append((await notifier.send(MESSAGE)).detail)
    if HTTP_CASES[name].signed:
        details.append((await make(name, rx.url(name), "SEC-wrong-secret").send(MESSAGE)).detail)
    details.append((await make(name, rx.refused_url(name)).send(MESSAGE)).detail)
    details.append((await make(name, rx.url(name, token="tok-unknown-000000")).send(MESSAGE)).detail)
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log each call
    assert_no_secret(caplog.text, *details, repr(notifier.config), str(notifier.config))


# -- e-mail -------------------------------------------------------------------------------------

async def test_email_delivers_chinese_subject_to_every_recipient(smtp: SMTPServer) -> None:
    delivery = await email_notifier(smtp).send(MESSAGE)
    assert delivery.ok, delivery
    [mail] = smtp.wait_for(1)
    assert mail.subject == MESSAGE.title
    assert mail.rcpt_tos == RECIPIENTS
    assert mail.mail_from == "steadyops@example.com"
    assert mail.authenticated
    assert "磁盘使用率过高" in mail.body("plain")
    html = mail.body("html")
    assert "<strong>0. 磁盘使用率过高 disk usage high</strong>" in html
    assert "&lt;tag&gt;" in html and "<tag>" not in html
    headers = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in headers and max(headers) < 0x80  # RFC 2047 words, plain ASCII


async def test_email_to_an_internationalised_address_uses_smtputf8(smtp: SMTPServer) -> None:
    delivery = await email_notifier(smtp, to=["运维@example.com"]).send(MESSAGE)
    assert delivery.ok, delivery
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["运维@example.com"] and mail.subject == MESSAGE.title


@pytest.mark.parametrize(
    ("code", "stage", "retryable"),
    [(451, "DATA", True), (554, "DATA", False), (421, "MAIL", True), (550, "MAIL", False),
     (452, "RCPT", True), (550, "RCPT", False)],
)
async def test_email_smtp_codes_decide_retry(smtp: SMTPServer, code: int, stage: Any, retryable: bool) -> None:
    smtp.fail_next(code, stage=stage, times=2)  # two recipients: both refused at RCPT
    delivery = await email_notifier(smtp).send(MESSAGE)
    assert not delivery.ok
    assert delivery.retryable is retryable, delivery
    assert str(code) in delivery.detail


async def test_email_wrong_password_is_final(smtp: SMTPServer) -> None:
    delivery = await email_notifier(smtp, password="not-the-password").send(MESSAGE)
    assert not delivery.ok and not delivery.retryable and delivery.status_code == 535, delivery
    assert smtp.messages == []


async def test_email_connection_refused_is_retryable(smtp: SMTPServer) -> None:
    from steadyops.testing.receiver import closed_port

    delivery = await email_notifier(smtp, port=closed_port()).send(MESSAGE)
    assert not delivery.ok and delivery.retryable, delivery


async def test_email_no_password_in_logs_or_details(smtp: SMTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = email_notifier(smtp)
    results: list[Delivery] = [await notifier.send(MESSAGE)]
    smtp.fail_next(451)
    results.append(await notifier.send(MESSAGE))
    results.append(await email_notifier(smtp, password="wrong-password").send(MESSAGE))
    assert [r.ok for r in results] == [True, False, False]
    assert_no_secret(caplog.text, *(r.detail for r in results), repr(notifier.config))
