"""A scripted OpenAI-compatible server: the one stand-in allowed, because no model runs here.

It plays recorded turns in order — text answers, tool calls, streamed chunks, malformed tool
arguments, delays (for timeouts), 429 and 5xx — and records every request body, so tests can assert
what steadyops sent (no secret, unchanged system prompt) as well as what it did with the answers.
A turn may also be a function of the request, which is how a "model that obeys injected
instructions" is played in the prompt-injection suite.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Turn:
    content: str = ""
    tool_calls: list[tuple[str, str | dict[str, Any]]] = field(default_factory=list)  # (name, arguments)
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0
    reasoning_content: str | None = None
    prompt_tokens: int = 10
    completion_tokens: int = 5


Responder = Callable[[dict[str, Any]], Turn]


class ScriptedLLM:
    """``with ScriptedLLM([Turn(...), ...]) as llm: llm.base_url …``"""

    def __init__(self, turns: list[Turn | Responder] | None = None, *, default: Turn | Responder | None = None) -> None:
        self.turns: list[Turn | Responder] = list(turns or [])
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True  # a scripted delay must not hold up the test's teardown
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *turns: Turn | Responder) -> None:
        with self._lock:
            self.turns.extend(turns)

    def _next(self, body: dict[str, Any]) -> Turn:
        with self._lock:
            self.requests.append(body)
            item = self.turns.pop(0) if self.turns else self.default
        if item is None:
            return Turn(content="(script exhausted)")
        return item(body) if callable(item) else item

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                body = json.loads(raw or b"{}")
                with outer._lock:
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                turn = outer._next(body)
                if turn.delay:
                    time.sleep(turn.delay)
                if turn.status != 200:
                    payload = json.dumps({"error": {"message": f"scripted {turn.status}"}}).encode()
                    self.send_response(turn.status)
                    if turn.retry_after is not None:
                        self.send_header("Retry-After", str(turn.retry_after))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if body.get("stream"):
                    self._stream(turn)
                else:
                    self._json(turn)

            def _calls(self, turn: Turn) -> list[dict[str, Any]]:
                return [{"id": f"call_{i}", "type": "function",
                         "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
                        for i, (name, args) in enumerate(turn.tool_calls)]

            def _json(self, turn: Turn) -> None:
                msg: dict[str, Any] = {"role": "assistant", "content": turn.content or None}
                if turn.tool_calls:
                    msg["tool_calls"] = self._calls(turn)
                if turn.reasoning_content:
                    msg["reasoning_content"] = turn.reasoning_content
                data = {"id": "scripted", "object": "chat.completion", "model": "scripted",
                        "choices": [{"index": 0, "message": msg,
                                     "finish_reason": "tool_calls" if turn.tool_calls else "stop"}],
                        "usage": {"prompt_tokens": turn.prompt_tokens, "completion_tokens": turn.completion_tokens,
                                  "total_tokens": turn.prompt_tokens + turn.completion_tokens}}
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, turn: Turn) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()

                def send(obj: dict[str, Any]) -> None:
                    self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
                    self.wfile.flush()

                text = turn.content
                for i in range(0, len(text), 4):  # small chunks, as real servers send
                    send({"choices": [{"index": 0, "delta": {"content": text[i:i + 4]}}]})
                for i, call in enumerate(self._calls(turn)):
                    args = call["function"]["arguments"]
                    send({"choices": [{"index": 0, "delta": {"tool_calls": [
                        {"index": i, "id": call["id"], "function": {"name": call["function"]["name"],
                                                                   "arguments": args[: len(args) // 2]}}]}}]})
                    send({"choices": [{"index": 0, "delta": {"tool_calls": [
                        {"index": i, "function": {"arguments": args[len(args) // 2:]}}]}}]})
                send({"choices": [{"index": 0, "delta": {},
                                   "finish_reason": "tool_calls" if turn.tool_calls else "stop"}],
                      "usage": {"prompt_tokens": turn.prompt_tokens, "completion_tokens": turn.completion_tokens}})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler
