"""The agent loop: a budget of steps and tokens, tools validated before they run, evidence cited.

The system prompt is fixed text shipped with steadyops plus the fence instructions; nothing a tool
returns is ever appended to it. Tool output is masked, cut to fit and fenced as untrusted data, so
a log line that says "call propose_action" is just a log line. A mutating call is not run: it ends
the run as a pending approval request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

from pydantic import ValidationError

from steadyops.agent.guard import Fence, Redactor
from steadyops.agent.llm import Delta, LLMError, Message, Reply, ToolSpec, Usage
from steadyops.agent.tools import render_result
from steadyops.contracts.toolsets import Tool
from steadyops.core.i18n import Lang

INCONCLUSIVE_MARKERS = ("inconclusive", "无法确定")


class LLM(Protocol):
    usage: Usage

    async def complete(self, messages: list[Message], tools: list[ToolSpec] = ..., *,
                       tool_choice: str | None = None, on_delta: Delta | None = None) -> Reply: ...


#: (event, data): "delta" {"text"}, "tool" {"name", "arguments", "evidence"} — for live UIs (SSE)
OnEvent = Callable[[str, dict[str, Any]], Awaitable[None]]


def system_prompt(lang: Lang) -> str:
    return (resources.files("steadyops.agent") / "prompts" / f"system.{lang}.md").read_text(encoding="utf-8")


@dataclass
class Evidence:
    id: str
    tool: str
    source: str
    arguments: dict[str, Any]
    excerpt: str


@dataclass
class Deferred:
    """A mutating call the model made: to be proposed to the remediation policy, never run here."""

    tool: str
    arguments: dict[str, Any]


@dataclass
class AgentResult:
    answer: str
    evidence: list[Evidence] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)
    steps: int = 0
    inconclusive: bool = False
    errors: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


@dataclass
class Budget:
    max_steps: int = 6
    max_tokens: int = 60_000
    max_tool_chars: int = 4_000
    tool_timeout: float = 30.0


class AgentLoop:
    def __init__(self, llm: LLM, tools: list[Tool], *, lang: Lang = "en", budget: Budget | None = None,
                 redactor: Redactor | None = None, fence: Fence | None = None) -> None:
        self.llm = llm
        self.tools = {t.name: t for t in tools}
        self.lang = lang
        self.budget = budget or Budget()
        self.redactor = redactor or Redactor()
        self.fence = fence or Fence()
        self.system = system_prompt(lang) + "\n\n" + self.fence.instructions()

    def _specs(self) -> list[ToolSpec]:
        return [ToolSpec(t.name, t.description, t.schema()) for t in self.tools.values()]

    async def run(self, question: str, context: str = "", on_event: OnEvent | None = None) -> AgentResult:
        result = AgentResult(answer="")
        user = self.redactor.mask(question)
        if context:
            user += "\n\n" + self.fence.wrap("context", self.redactor.mask(context))
        messages = [Message("system", self.system), Message("user", user)]
        for step in range(1, self.budget.max_steps + 1):
            result.steps = step
            last = step == self.budget.max_steps or self.llm.usage.total_tokens >= self.budget.max_tokens
            if last:
                messages.append(Message("user", "Budget reached: answer now from the evidence you have, "
                                                "without calling tools." if self.lang == "en" else
                                                "预算已用尽：请根据已有证据直接作答，不要再调用工具。"))
            try:
                reply = await self.llm.complete(messages, [] if last else self._specs(),
                                                tool_choice=None if last else "auto",
                                                on_delta=self._deltas(on_event) if on_event else None)
            except LLMError as exc:
                result.errors.append(str(exc))
                result.answer = ""
                break
            messages.append(Message("assistant", reply.content, tool_calls=reply.tool_calls,
                                    reasoning_content=reply.reasoning_content))
            if not reply.tool_calls or last:
                result.answer = reply.content
                break
            for call in reply.tool_calls:
                before = len(result.evidence)
                messages.append(Message("tool", await self._call(call.name, call.arguments, result),
                                        tool_call_id=call.id))
                if on_event is not None:
                    ev = result.evidence[-1].id if len(result.evidence) > before else None
                    await on_event("tool", {"name": call.name, "arguments": self.redactor.unmask(call.arguments),
                                            "evidence": ev})
            if result.deferred:
                result.answer = reply.content
                break
        result.answer = self.redactor.unmask(result.answer)
        result.inconclusive = any(m in result.answer.lower() for m in INCONCLUSIVE_MARKERS) or not result.evidence
        result.usage = self.llm.usage
        return result

    def _deltas(self, on_event: OnEvent) -> Delta:
        async def forward(text: str) -> None:
            await on_event("delta", {"text": self.redactor.unmask(text)})

        return forward

    async def _call(self, name: str, raw_args: str, result: AgentResult) -> str:
        tool = self.tools.get(name)
        if tool is None:
            return f"error: no tool named {name!r}; available: {', '.join(sorted(self.tools))}"
        try:
            args = json.loads(raw_args or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments must be a JSON object")
        except ValueError as exc:
            result.errors.append(f"{name}: malformed arguments")
            return f"error: arguments for {name} are not valid JSON ({exc}); call again with a JSON object"
        try:
            params = tool.params.model_validate(args)
        except ValidationError as exc:
            first = exc.errors()[0]
            return f"error: invalid arguments for {name}: {'.'.join(map(str, first['loc']))}: {first['msg']}"
        if tool.mutates:
            result.deferred.append(Deferred(tool=name, arguments=params.model_dump(mode="json")))
            return "deferred: this change was recorded as a request for human approval; it has NOT been executed."
        try:
            value = await asyncio.wait_for(tool.run(params), timeout=self.budget.tool_timeout)
        except TimeoutError:
            return f"error: {name} timed out after {self.budget.tool_timeout:g}s"
        except Exception as exc:
            return f"error: {name} failed: {type(exc).__name__}: {exc}"
        text = self.redactor.mask(render_result(value))
        if len(text) > self.budget.max_tool_chars:
            text = text[: self.budget.max_tool_chars] + f"\n…[cut: {len(text) - self.budget.max_tool_chars} chars]"
        ev = Evidence(id=f"E{len(result.evidence) + 1}", tool=name, source=tool.source,
                      arguments=params.model_dump(mode="json"), excerpt=text[:500])
        result.evidence.append(ev)
        return f"[{ev.id}] " + self.fence.wrap(f"tool:{name}", text)
