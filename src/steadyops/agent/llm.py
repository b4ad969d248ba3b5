"""OpenAI-compatible Chat Completions client with tool calling, streaming and provider quirks.

One client serves vLLM, SGLang, Ollama, llama.cpp, DeepSeek, Qwen/DashScope and OpenAI because
they all speak Chat Completions; what differs is captured in :data:`PROVIDERS` instead of in
``if provider == …`` branches scattered through the agent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from steadyops.config.settings import LLMConfig
from steadyops.core.errors import SteadyOpsError

log = logging.getLogger(__name__)



class LLMError(SteadyOpsError):
    """The model endpoint failed for good (after retries) or answered something unusable."""


@dataclass(frozen=True)
class Capabilities:
    #: sends ``tool_choice`` at all (Ollama ignores or rejects it)
    tool_choice: bool = True
    #: streaming and tools together work (Ollama historically mishandles the combination)
    stream_with_tools: bool = True
    #: the assistant's ``reasoning_content`` must be sent back on tool turns (DeepSeek reasoner)
    reasoning_passback: bool = False
    #: extra body fields the endpoint needs
    extra_body: tuple[tuple[str, Any], ...] = ()
    #: what to tell the operator when tool calls come back empty or as text
    hint: str = ""


PROVIDERS: dict[str, Capabilities] = {
    "openai": Capabilities(),
    "vllm": Capabilities(hint="vLLM returns tool calls only when started with --enable-auto-tool-choice and a "
                              "matching --tool-call-parser (e.g. hermes for Qwen, llama3_json for Llama 3)"),
    "sglang": Capabilities(hint="SGLang needs --tool-call-parser matching the model"),
    "ollama": Capabilities(tool_choice=False, stream_with_tools=False,
                           hint="Ollama ignores tool_choice; streaming with tools is disabled for it"),
    "llamacpp": Capabilities(hint="llama.cpp server needs --jinja for tool calling"),
    "deepseek": Capabilities(reasoning_passback=True),
    "dashscope": Capabilities(extra_body=(("enable_thinking", False),),
                              hint="Qwen open models on DashScope need enable_thinking=false for non-streaming calls"),
}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]

    def to_openai(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text, validated later against the tool's schema


@dataclass
class Message:
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    reasoning_content: str | None = None

    def to_openai(self, caps: Capabilities) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [{"id": c.id, "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments}} for c in self.tool_calls]
        if self.tool_call_id:
            msg["tool_call_id"] = self.tool_call_id
        if caps.reasoning_passback and self.role == "assistant" and self.reasoning_content:
            msg["reasoning_content"] = self.reasoning_content
        return msg


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    retries: int = 0
    cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Reply:
    content: str
    tool_calls: list[ToolCall]
    reasoning_content: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


Delta = Callable[[str], Awaitable[None] | None]


class OpenAICompatLLM:
    def __init__(self, config: LLMConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.caps = PROVIDERS[config.provider]
        self._client = client
        self.usage = Usage()

    def _body(self, messages: Sequence[Message], tools: Sequence[ToolSpec], tool_choice: str | None,
              stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": [m.to_openai(self.caps) for m in messages],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if tools:
            body["tools"] = [t.to_openai() for t in tools]
            if tool_choice and self.caps.tool_choice:
                body["tool_choice"] = tool_choice
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(dict(self.caps.extra_body))
        return body

    async def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), *,
                       tool_choice: str | None = None, on_delta: Delta | None = None) -> Reply:
        stream = self.config.stream and (not tools or self.caps.stream_with_tools)
        body = self._body(messages, tools, tool_choice, stream)
        headers = {"Content-Type": "application/json"}
        if self.config.api_key is not None:
            headers["Authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        client = self._client or httpx.AsyncClient(timeout=self.config.timeout)
        try:
            reply = await self._with_retries(client, url, body, headers, stream, on_delta)
        finally:
            if self._client is None:
                await client.aclose()
        self.usage.prompt_tokens += reply.prompt_tokens
        self.usage.completion_tokens += reply.completion_tokens
        self.usage.cost += (reply.prompt_tokens * self.config.price_input_per_1k
                            + reply.completion_tokens * self.config.price_output_per_1k) / 1000
        return reply

    async def _with_retries(self, client: httpx.AsyncClient, url: str, body: dict[str, Any],
                            headers: dict[str, str], stream: bool, on_delta: Delta | None) -> Reply:
        delay = self.config.retry_backoff
        for attempt in range(self.config.max_retries + 1):
            self.usage.requests += 1
            wait: float | None = None
            try:
                if stream:
                    return await self._stream(client, url, body, headers, on_delta)
                resp = await client.post(url, json=body, headers=headers, timeout=self.config.timeout)
                if resp.status_code == 200:
                    return _parse(resp.json())
                problem = f"HTTP {resp.status_code}: {resp.text[:300]}"
                if resp.status_code != 429 and resp.status_code < 500:
                    raise LLMError(f"model endpoint refused the request ({problem})")
                wait = _retry_after(resp)
            except httpx.TimeoutException:
                problem = f"timed out after {self.config.timeout:g}s"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__} talking to the model endpoint"
            except _RetryableStatus as exc:
                problem, wait = str(exc), exc.retry_after
            if attempt == self.config.max_retries:
                raise LLMError(f"model endpoint failed after {attempt + 1} attempt(s): {problem}")
            self.usage.retries += 1
            log.info("LLM call failed (%s); retrying", problem)
            await asyncio.sleep(min(wait if wait is not None else delay, 30.0))
            delay *= 2
        raise LLMError("unreachable")  # pragma: no cover

    async def _stream(self, client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str],
                      on_delta: Delta | None) -> Reply:
        content: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish: str | None = None
        usage: dict[str, int] = {}
        async with client.stream("POST", url, json=body, headers=headers, timeout=self.config.timeout) as resp:
            if resp.status_code != 200:
                text = (await resp.aread()).decode(errors="replace")[:300]
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise _RetryableStatus(f"HTTP {resp.status_code}: {text}", _retry_after(resp))
                raise LLMError(f"model endpoint refused the request (HTTP {resp.status_code}: {text})")
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices", []):
                    delta = choice.get("delta", {})
                    finish = choice.get("finish_reason") or finish
                    if delta.get("reasoning_content"):
                        reasoning.append(delta["reasoning_content"])
                    if delta.get("content"):
                        content.append(delta["content"])
                        if on_delta is not None:
                            maybe = on_delta(delta["content"])
                            if maybe is not None:
                                await maybe
                    for tc in delta.get("tool_calls") or []:
                        slot = calls.setdefault(int(tc.get("index", 0)), {"id": "", "name": "", "arguments": ""})
                        slot["id"] = tc.get("id") or slot["id"]
                        fn = tc.get("function") or {}
                        slot["name"] += fn.get("name") or ""
                        slot["arguments"] += fn.get("arguments") or ""
        return Reply(content="".join(content),
                     tool_calls=[ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
                                 for i, c in sorted(calls.items())],
                     reasoning_content="".join(reasoning) or None, finish_reason=finish,
                     prompt_tokens=int(usage.get("prompt_tokens", 0)),
                     completion_tokens=int(usage.get("completion_tokens", 0)))


class _RetryableStatus(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(resp: httpx.Response) -> float | None:
    try:
        return float(resp.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _parse(data: dict[str, Any]) -> Reply:
    try:
        choice = data["choices"][0]
        msg = choice["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"unexpected completion shape: {str(data)[:200]}") from exc
    calls = [ToolCall(id=c.get("id") or f"call_{i}", name=c["function"]["name"],
                      arguments=c["function"].get("arguments") or "{}")
             for i, c in enumerate(msg.get("tool_calls") or [])]
    usage = data.get("usage") or {}
    return Reply(content=msg.get("content") or "", tool_calls=calls, reasoning_content=msg.get("reasoning_content"),
                 finish_reason=choice.get("finish_reason"), prompt_tokens=int(usage.get("prompt_tokens", 0)),
                 completion_tokens=int(usage.get("completion_tokens", 0)))
