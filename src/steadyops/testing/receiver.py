"""A local stand-in for every chat vendor's webhook, as strict as the vendor where it matters.

Notifier tests are only worth something if the far end refuses what the real vendor refuses: a
wrong signature, a stale timestamp, an oversized body, a bad token. So each vendor route here
re-implements the vendor's documented checks *independently* of the notifiers (a shared helper
would make a wrong signature agree with itself) and answers the way the vendor does, including
DingTalk's and Feishu's habit of saying "no" with HTTP 200 and an error code in the body.

Usage::

    with Receiver(secrets={"dingtalk": "SEC…"}) as rx:
        url = rx.url("dingtalk")              # …/robot/send?access_token=<rx.token>
        rx.respond_next(429, retry_after=3)   # script the next answer(s)
        ...                                   # point a notifier at url and send
        [req] = rx.wait_for(1)                # blocks until one *accepted* request arrived
        req.accepted, req.reason, req.json()

The server runs in a background thread on 127.0.0.1 with an OS-chosen port, so tests can run in
parallel and need no network.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

VENDORS: tuple[str, ...] = ("dingtalk", "wecom", "feishu", "slack", "webhook")
_PATHS = {
    "dingtalk": "/robot/send?access_token={token}",
    "wecom": "/cgi-bin/webhook/send?key={token}",
    "feishu": "/open-apis/bot/v2/hook/{token}",
    "slack": "/services/T0STEADY0/B0STEADY0/{token}",
    "webhook": "/hooks/{token}",
}
#: What each vendor documents as its limit (bytes of the request body unless noted).
DINGTALK_MAX_BODY = 20_000
WECOM_MAX_CONTENT = 4096  # bytes of markdown.content, UTF-8
FEISHU_MAX_BODY = 20 * 1024
FEISHU_MAX_CARD = 30 * 1024
SLACK_MAX_TEXT = 40_000  # characters
SLACK_MAX_SECTION = 3000  # characters
MAX_SKEW_SECONDS = 3600.0
WEBHOOK_SIGNATURE_HEADER = "x-steadyops-signature"


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body (bytes, or a JSON-able value), headers, optional stall."""

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "text/plain; charset=utf-8"
        return json.dumps(self.body, ensure_ascii=False).encode(), "application/json; charset=utf-8"


@dataclass(frozen=True)
class ReceivedRequest:
    """What arrived, and what the simulated vendor made of it."""

    vendor: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int
    accepted: bool
    reason: str  # why it was refused; "scripted" for answers queued with respond_next
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class _Verdict:
    accepted: bool
    reason: str
    reply: Reply


def _ok(reply: Reply) -> _Verdict:
    return _Verdict(True, "", reply)


def _no(reason: str, reply: Reply) -> _Verdict:
    return _Verdict(False, reason, reply)


def _errcode(code: int, msg: str) -> _Verdict:
    """DingTalk's and WeCom's refusal: HTTP 200, the verdict in the body."""
    return _no(f"errcode {code}: {msg}", Reply(200, {"errcode": code, "errmsg": msg}))


def _b64_hmac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _json_dict(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class Receiver:
    """Records every request and verifies it as the named vendor would."""

    def __init__(self, *, token: str = "local-token-0123456789", secrets: Mapping[str, str] | None = None,
                 bearer_token: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.token = token
        #: vendor → signing secret the "vendor side" expects; mutable between requests.
        self.secrets: dict[str, str] = dict(secrets or {})
        self.bearer_token = bearer_token
        self.clock = clock
        self._requests: list[ReceivedRequest] = []
        self._script: deque[tuple[str | None, Reply]] = deque()
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                receiver._handle(self, self.rfile.read(length))

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the default writes request lines, tokens included, to stderr

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="steadyops-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, vendor: str, *, token: str | None = None) -> str:
        """The webhook URL a notifier of ``vendor`` should be configured with."""
        return self.base_url + _PATHS[vendor].format(token=self.token if token is None else token)

    def refused_url(self, vendor: str) -> str:
        """The same vendor path on a port where nothing listens: the connection is refused."""
        return f"http://127.0.0.1:{closed_port()}" + _PATHS[vendor].format(token=self.token)

    # -- scripting and inspection ------------------------------------------------------------
    def respond_next(self, status: int, *, times: int = 1, body: Any = None, retry_after: float | None = None,
                     headers: Mapping[str, str] | None = None, delay: float = 0.0,
                     vendor: str | None = None) -> None:
        """Answer the next ``times`` requests (for ``vendor``, or any) with this, unverified."""
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = f"{retry_after:g}"
        reply = Reply(status, b"scripted" if body is None else body, all_headers, delay)
        with self._cond:
            self._script.extend([(vendor, reply)] * times)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    def accepted(self, vendor: str | None = None) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.accepted and vendor in (None, r.vendor)]

    def clear(self) -> None:
        with self._cond:
            self._requests.clear()
            self._script.clear()

    def wait_for(self, count: int = 1, *, timeout: float = 5.0, vendor: str | None = None,
                 accepted_only: bool = True) -> list[ReceivedRequest]:
        """Block until ``count`` matching requests arrived; raise TimeoutError otherwise."""

        def matching() -> list[ReceivedRequest]:
            return [r for r in self._requests
                    if vendor in (None, r.vendor) and (r.accepted or not accepted_only)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} request(s), got {len(matching())}")
            return matching()

    async def wait_for_async(self, count: int = 1, *, timeout: float = 5.0, vendor: str | None = None,
                             accepted_only: bool = True) -> list[ReceivedRequest]:
        return await asyncio.to_thread(self.wait_for, count, timeout=timeout, vendor=vendor,
                                       accepted_only=accepted_only)

    # -- the server side ---------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        vendor = _vendor_of(parts.path)
        with self._cond:
            scripted = next((i for i, (v, _) in enumerate(self._script) if v in (None, vendor)), None)
            reply_script = self._script[scripted][1] if scripted is not None else None
            if scripted is not None:
                del self._script[scripted]
        check = getattr(self, f"_{vendor}") if vendor in VENDORS else None
        if reply_script is not None:
            verdict = _no("scripted", reply_script)
        elif check is None:
            verdict = _no("unknown path", Reply(404, b"not found"))
        else:
            verdict = check(parts.path, query, headers, body)  # vendor-named method, as below
        if verdict.reply.delay:
            time.sleep(verdict.reply.delay)
        request = ReceivedRequest(vendor, handler.command, parts.path, query, headers, body,
                                  verdict.reply.status, verdict.accepted, verdict.reason, self.clock())
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
        payload, content_type = verdict.reply.encoded()
        try:
            handler.send_response(verdict.reply.status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in verdict.reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a timeout test); nothing left to tell it

    def _fresh(self, timestamp: float) -> bool:
        return abs(self.clock() - timestamp) <= MAX_SKEW_SECONDS

    def _dingtalk(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Verdict:
        if query.get("access_token") != self.token:
            return _errcode(300001, "token is not exist")
        secret = self.secrets.get("dingtalk")
        if secret is not None:
            ts, sent = query.get("timestamp", ""), query.get("sign", "")
            if not ts.isdigit() or not self._fresh(int(ts) / 1000):
                return _errcode(310000, "sign not match, timestamp is missing or over an hour off")
            expected = _b64_hmac(secret.encode(), f"{ts}\n{secret}".encode())
            if not hmac.compare_digest(expected, sent):
                return _errcode(310000, "sign not match")
        if "application/json" not in headers.get("content-type", ""):
            return _errcode(43004, "invalid HTTP header Content-Type")
        data = _json_dict(body)
        if data is None:
            return _errcode(40035, "missing parameter json")
        if len(body) > DINGTALK_MAX_BODY:
            return _errcode(460101, f"message too long, exceeds {DINGTALK_MAX_BODY} bytes")
        md = data.get("markdown") if data.get("msgtype") == "markdown" else None
        if not isinstance(md, dict) or not md.get("title") or not md.get("text"):
            return _errcode(40035, "missing parameter markdown.title or markdown.text")
        return _ok(Reply(200, {"errcode": 0, "errmsg": "ok"}))

    def _wecom(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Verdict:
        if query.get("key") != self.token:
            return _errcode(93000, "invalid webhook url")
        data = _json_dict(body)
        if data is None:
            return _errcode(40035, "invalid parameter")
        md = data.get("markdown") if data.get("msgtype") == "markdown" else None
        if not isinstance(md, dict):
            return _errcode(40008, "invalid message type")
        content = md.get("content")
        if not isinstance(content, str) or not content:
            return _errcode(44004, "empty content")
        if len(content.encode("utf-8")) > WECOM_MAX_CONTENT:
            return _errcode(40058, f"markdown.content exceed max length {WECOM_MAX_CONTENT}")
        return _ok(Reply(200, {"errcode": 0, "errmsg": "ok"}))

    def _feishu(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Verdict:
        def err(code: int, msg: str) -> _Verdict:
            return _no(f"code {code}: {msg}", Reply(200, {"code": code, "msg": msg, "data": {}}))

        if path.rsplit("/", 1)[-1] != self.token:
            return err(19001, "param invalid: incoming webhook access token invalid")
        if len(body) > FEISHU_MAX_BODY:
            return err(9499, "request body too large")
        data = _json_dict(body)
        if data is None:
            return err(9499, "Bad Request")
        secret = self.secrets.get("feishu")
        if secret is not None:
            ts, sent = str(data.get("timestamp", "")), str(data.get("sign", ""))
            if not ts.isdigit() or not self._fresh(int(ts)):
                return err(19021, "sign match fail or timestamp is not within one hour from current time")
            if not hmac.compare_digest(_b64_hmac(f"{ts}\n{secret}".encode(), b""), sent):
                return err(19021, "sign match fail or timestamp is not within one hour from current time")
        kind = data.get("msg_type")
        if kind == "interactive":
            card = data.get("card")
            if not isinstance(card, dict) or not card.get("elements"):
                return err(9499, "card is empty")
            if len(json.dumps(card, ensure_ascii=False).encode()) > FEISHU_MAX_CARD:
                return err(9499, "card too large")
        elif kind not in {"text", "post", "image", "share_chat"}:
            return err(9499, "Bad Request: msg_type")
        return _ok(Reply(200, {"code": 0, "msg": "success", "data": {}}))

    def _slack(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Verdict:
        if path.rsplit("/", 1)[-1] != self.token:
            return _no("invalid_token", Reply(403, b"invalid_token"))
        data = _json_dict(body)
        if data is None:
            return _no("invalid_payload", Reply(400, b"invalid_payload"))
        text = data.get("text")
        if not text and not data.get("blocks") and not data.get("attachments"):
            return _no("no_text", Reply(400, b"no_text"))
        if isinstance(text, str) and len(text) > SLACK_MAX_TEXT:
            return _no("msg_too_long", Reply(400, b"msg_too_long"))
        blocks = list(data.get("blocks") or [])
        for attachment in data.get("attachments") or []:
            blocks += attachment.get("blocks") or []
        for block in blocks:
            section = block.get("text") if block.get("type") == "section" else None
            if isinstance(section, dict) and len(str(section.get("text", ""))) > SLACK_MAX_SECTION:
                return _no("invalid_blocks", Reply(400, b"invalid_blocks"))
        return _ok(Reply(200, b"ok"))

    def _webhook(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Verdict:
        if path.rsplit("/", 1)[-1] != self.token:
            return _no("unknown hook", Reply(404, {"error": "not found"}))
        if self.bearer_token is not None and headers.get("authorization") != f"Bearer {self.bearer_token}":
            return _no("bad bearer token", Reply(401, {"error": "unauthorized"}))
        secret = self.secrets.get("webhook")
        if secret is not None:
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, headers.get(WEBHOOK_SIGNATURE_HEADER, "")):
                return _no("bad signature", Reply(401, {"error": "bad signature"}))
        data = _json_dict(body)
        if data is None or "version" not in data or "title" not in data:
            return _no("not a steadyops notification", Reply(400, {"error": "bad payload"}))
        return _ok(Reply(200, {"status": "ok"}))


def _vendor_of(path: str) -> str:
    for vendor, template in _PATHS.items():
        prefix = template.split("?", 1)[0].replace("{token}", "")
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return vendor
    return "unknown"


def closed_port() -> int:
    """A port nothing listens on (bound, then released), for "connection refused" tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
