"""E-mail over SMTP with the standard library, run in a worker thread.

smtplib is blocking, so each send runs under :func:`asyncio.to_thread`; one connection per
message keeps the notifier stateless (alert mail is rare enough that connection reuse is not
worth a pool that can go stale). :class:`email.message.EmailMessage` with the default policy
encodes non-ASCII subjects as RFC 2047 words, so Chinese titles survive every mail client.

SMTP's own classification decides retries: 4xx replies are "try again later" by definition,
5xx are permanent, and a connection that fails before any reply is treated as transient.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import ClassVar, Self

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator

from steadyops.contracts.delivery import coerce_config, guard_secrets, scrub, status_line
from steadyops.contracts.notifiers import Notifier
from steadyops.core.markup import defang, escape_html, render
from steadyops.core.models import Delivery, Notification

logger = logging.getLogger(__name__)

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


class EmailConfig(BaseModel):
    """SMTP server, credentials and addresses. ``from`` is accepted as the key in YAML."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str
    #: Defaults to 465 with ``ssl``, 587 with ``starttls``, else 25.
    port: int | None = Field(default=None, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    from_addr: str = Field(validation_alias=AliasChoices("from", "from_addr"))
    to: list[str] = Field(min_length=1)
    timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Self:
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (implicit TLS, port 465) or starttls (port 587), not both")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 465 if self.ssl else 587 if self.starttls else 25


def _html_skeleton(text: str) -> str:
    """Our Markdown (never a label: those are placeholders here, escaped by ``escape_html``) → HTML."""
    body = html.escape(text)
    body = _BOLD.sub(r"<strong>\1</strong>", body)
    body = _LINK.sub(r'<a href="\2">\1</a>', body)
    return "".join(
        "<p>" + part.strip("\n").replace("\n", "<br>\n") + "</p>\n"
        for part in body.split("\n\n")
        if part.strip()
    )


def to_html(message: Notification) -> str:
    """A minimal HTML alternative: paragraphs, bold and links; everything else is escaped text."""
    paragraphs = render(message.text, escape_html, _html_skeleton)
    link = f'<p><a href="{html.escape(message.url)}">Details / 详情</a></p>\n' if message.url else ""
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
            f"<h3>{html.escape(status_line(message))} {render(message.title, escape_html, html.escape)}</h3>\n"
            f"{paragraphs}{link}</body></html>\n")


def _is_transient(code: int) -> bool:
    return 400 <= code < 500


class EmailNotifier(Notifier):
    """Mail the notification to a fixed list of recipients: plain text plus an HTML alternative.

    The subject is the notification title alone, so a mail client threads repeats of one alert
    together; severity and status are in the body's first line.
    """

    name: ClassVar[str] = "email"
    Config: ClassVar[type[BaseModel]] = EmailConfig

    def __init__(self, config: BaseModel, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self.settings = coerce_config(EmailConfig, config)
        self._secrets = guard_secrets(self.settings)

    def build(self, message: Notification) -> EmailMessage:
        cfg = self.settings
        mail = EmailMessage()
        # A header may not contain line breaks; a multi-line title becomes one line.
        mail["Subject"] = " ".join(render(message.title, defang).split())
        mail["From"] = cfg.from_addr
        mail["To"] = ", ".join(cfg.to)
        mail["Date"] = formatdate(localtime=True)
        # An explicit domain: make_msgid() would otherwise ask DNS for this host's FQDN.
        mail["Message-ID"] = make_msgid(domain=cfg.from_addr.rpartition("@")[2] or "steadyops.local")
        text = f"{status_line(message)} {render(message.title, defang)}\n\n{render(message.text, defang)}\n"
        if message.url:
            text += f"\nDetails / 详情: {message.url}\n"
        mail.set_content(text)
        mail.add_alternative(to_html(message), subtype="html")
        return mail

    def _deliver(self, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
        cfg = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if cfg.ssl:
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.effective_port, timeout=cfg.timeout, context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.effective_port, timeout=cfg.timeout)
        with smtp:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password.get_secret_value() if cfg.password else "")
            return smtp.send_message(mail, from_addr=cfg.from_addr, to_addrs=cfg.to)

    async def send(self, message: Notification) -> Delivery:
        host = self.settings.host
        try:
            refused = await asyncio.to_thread(self._deliver, self.build(message))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            retryable = all(_is_transient(c) for c in codes)
            return self._failed(retryable, f"email: every recipient refused by {host} (SMTP {codes})")
        except smtplib.SMTPResponseException as exc:  # sender/data/auth/connect refused with a code
            raw = exc.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            return self._failed(_is_transient(exc.smtp_code),
                                f"email: SMTP {exc.smtp_code} from {host}: {text[:200]}", exc.smtp_code)
        except smtplib.SMTPNotSupportedError:
            return self._failed(False, f"email: {host} lacks an extension we need (STARTTLS, AUTH or SMTPUTF8)")
        except ssl.SSLCertVerificationError:
            return self._failed(False, f"email: TLS certificate of {host} not trusted")
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused, timeouts, TLS resets
            return self._failed(True, f"email: {type(exc).__name__} talking to {host}")
        if refused:
            logger.info("email: %d of %d recipients refused by %s", len(refused), len(self.settings.to), host)
            return Delivery(ok=True, detail=f"email: {len(refused)} recipient(s) refused")
        logger.debug("email: sent to %d recipients via %s", len(self.settings.to), host)
        return Delivery(ok=True)

    def _failed(self, retryable: bool, detail: str, code: int | None = None) -> Delivery:
        logger.info("email: delivery via %s failed (code %s, retryable=%s)",
                    self.settings.host, code, retryable)
        return Delivery(ok=False, retryable=retryable, status_code=code, detail=scrub(detail, self._secrets))
