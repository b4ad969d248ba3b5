"""A local SMTP server (aiosmtpd) that records mail and can be told to refuse it.

E-mail tests need a real SMTP conversation (EHLO, AUTH, MAIL, RCPT, DATA) to prove that a
Chinese subject survives encoding and that 4xx/5xx replies are classified right; a mock of
smtplib would prove neither. Usage::

    with SMTPServer(credentials=("alerts", "pw")) as smtp:
        smtp.fail_next(451, stage="RCPT")      # optional: script a refusal
        ...                                    # EmailConfig(host=smtp.host, port=smtp.port, …)
        [mail] = smtp.wait_for(1)
        mail.subject, mail.rcpt_tos, mail.body("html")
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope as the server saw it, and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    authenticated: bool

    @property
    def subject(self) -> str:
        """Decoded (RFC 2047 words resolved), as a mail client would show it."""
        return str(self.message["Subject"])

    def body(self, subtype: Literal["plain", "html"] = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        if not isinstance(part, EmailMessage):
            raise LookupError(f"no text/{subtype} part")
        return str(part.get_content())


class _PortZeroController(Controller):
    """aiosmtpd's Controller, able to listen on an OS-chosen port (it assumes a fixed one)."""

    def _trigger_server(self) -> None:
        if isinstance(self.server, asyncio.Server) and self.port == 0:
            self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated


class SMTPServer:
    """Records every message on 127.0.0.1; with ``credentials`` it offers AUTH and checks them."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self._messages: list[ReceivedMail] = []
        self._script: deque[tuple[Stage, str]] = deque()
        self._cond = threading.Condition()
        self._controller: _PortZeroController | None = None

    def start(self) -> Self:
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            # AUTH is offered without TLS (loopback) but not required, because aiosmtpd warns on
            # every connection otherwise; ReceivedMail.authenticated tells whether the client logged in.
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = _PortZeroController(_Handler(self), hostname="127.0.0.1", port=0, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the SMTP server is not started")
        return int(self._controller.port)

    def fail_next(self, code: int, text: str = "scripted refusal", *, stage: Stage = "DATA",
                  times: int = 1) -> None:
        """Refuse the next ``times`` MAIL/RCPT/DATA commands with ``code`` (4xx or 5xx)."""
        with self._cond:
            self._script.extend([(stage, f"{code} {text}")] * times)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()
            self._script.clear()

    def wait_for(self, count: int = 1, *, timeout: float = 5.0) -> list[ReceivedMail]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} message(s), got {len(self._messages)}")
            return list(self._messages)

    # -- called from the server thread ---------------------------------------------------------
    def _scripted(self, stage: Stage) -> str | None:
        with self._cond:
            if self._script and self._script[0][0] == stage:
                return self._script.popleft()[1]
        return None

    def _record(self, session: Session, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        mail = ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), raw, parsed, bool(session.authenticated))
        with self._cond:
            self._messages.append(mail)
            self._cond.notify_all()

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.credentials is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        # handled=False: aiosmtpd then answers "535 Authentication credentials invalid" itself.
        return AuthResult(success=ok, handled=False)


class _Handler:
    """aiosmtpd handler hooks; each may answer with a scripted refusal instead of accepting."""

    def __init__(self, owner: SMTPServer) -> None:
        self.owner = owner

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        refusal = self.owner._scripted("MAIL")
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        refusal = self.owner._scripted("RCPT")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.owner._scripted("DATA")
        if refusal:
            return refusal
        self.owner._record(session, envelope)
        return "250 Message accepted for delivery"
