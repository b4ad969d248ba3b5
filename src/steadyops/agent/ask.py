"""Answer a question: the LLM agent when one is configured, the deterministic engine otherwise.

Whatever the model asks to change comes back as deferred calls; each is handed to the remediation
executor's ``propose`` — the same plan, allow-list and approval policy a human request goes
through — and is never applied here. Applying stays a human's ``steadyops act apply``.

With a ``principal`` (every HTTP chat) the model sees only the tools that principal's role allows,
and a proposal is requested in that principal's name, so the person who asked cannot approve it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from steadyops.agent.context import AgentApp
from steadyops.agent.guard import Redactor
from steadyops.agent.llm import OpenAICompatLLM, Usage
from steadyops.agent.logtools import LogToolset
from steadyops.agent.loop import LLM, AgentLoop, Budget, Evidence, OnEvent
from steadyops.agent.relevance import expand_kinds, relevant_incidents
from steadyops.agent.tools import PlatformToolset, plugin_tools
from steadyops.auth.principal import Principal
from steadyops.auth.roles import allows, tool_role
from steadyops.contracts.toolsets import Tool
from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import Lang, t
from steadyops.pipeline import diagnose

AGENT_ACTOR = "agent"


@dataclass
class Proposal:
    action: str
    target: str
    reason: str
    run_id: int | None = None
    status: str = ""
    refused: str = ""


@dataclass
class Answer:
    text: str
    mode: Literal["llm", "deterministic", "command"]
    evidence: list[Evidence] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    inconclusive: bool = False
    errors: list[str] = field(default_factory=list)
    usage: Usage | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _known_secrets(app: AgentApp) -> list[str]:
    """Values from our own config that must never reach a model (notifier secrets, DB password …)."""
    out: list[str] = []
    url = app.settings.database_url or ""
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        out.append(url.split("@", 1)[0].split("//", 1)[-1].split(":", 1)[1])
    for notifier in app.channels.values():
        for value in notifier.config.model_dump().values():
            if hasattr(value, "get_secret_value"):
                out.append(value.get_secret_value())
    if app.settings.llm is not None and app.settings.llm.api_key is not None:
        out.append(app.settings.llm.api_key.get_secret_value())
    return [s for s in out if s]


def unusable(answer: str, has_evidence: bool, errors: list[str]) -> str:
    """Why a model's answer cannot be given to an operator ("" when it can): the call failed, it
    gathered no evidence, or its text is not readable (a broken or wrong model emits byte soup)."""
    text = answer.strip()
    if not text:
        return f"the model call failed: {errors[-1][:160]}" if errors else "the model returned no answer"
    readable = sum(1 for ch in text if ch.isalnum() or ch.isspace() or ch in ".,;:!?()[]'\"-/%#，。：；！？（）")
    if readable / len(text) < 0.8 or "\ufffd" in text:
        return f"the answer is not readable text ({readable / len(text):.0%} readable characters)"
    if not has_evidence:
        return "the model gathered no evidence with the tools"
    return ""


class Investigator:
    def __init__(self, app: AgentApp, llm: LLM | None = None, *, extra_tools: list[Tool] | None = None,
                 budget: Budget | None = None, propose: bool = True, principal: Principal | None = None) -> None:
        self.app = app
        self.principal = principal
        self.propose = propose
        if llm is None and app.settings.llm is not None:
            llm = OpenAICompatLLM(app.settings.llm)
        self.llm = llm
        logs = [*LogToolset(app.logs).tools()] if app.logs is not None else []
        tools = [*PlatformToolset(app).tools(), *plugin_tools(app), *logs, *(extra_tools or [])]
        self.tools = [t for t in tools if principal is None or allows(principal.role, tool_role(t))]
        self.budget = budget

    async def ask(self, question: str, lang: Lang, context: str = "", on_event: OnEvent | None = None, *,
                  fallback: bool = True) -> Answer:
        """``on_event`` receives text deltas (when the endpoint streams) and tool calls as they happen.

        A phrase the command grammar knows (``zk检测``) runs as that command, exactly as ``steadyops
        ask``/``do`` would, with or without a model. When the model cannot be reached the
        deterministic engine answers instead and says so (``fallback``; off for background
        investigations, which must not store an engine answer as the model's).
        """
        from steadyops.agent.command_answers import answer_command
        from steadyops.agent.commands import Grammar

        cmd = Grammar.from_registry(self.app.registry).as_command(question) if not context else None
        if cmd is not None:
            return await answer_command(self.app, cmd, lang, self.principal)
        if self.llm is None:
            return self.deterministic(question, lang)
        loop = AgentLoop(self.llm, self.tools, lang=lang, budget=self.budget,
                         redactor=Redactor(extra=_known_secrets(self.app)))
        result = await loop.run(question, context, on_event=on_event)
        if fallback and not result.answer and any(e.startswith("model endpoint failed") for e in result.errors):
            # the endpoint never answered (down, wrong URL, timeouts): the engine answers and says so
            answer = self.deterministic(question, lang, model_unreachable=True)
            answer.details["model_error"] = "; ".join(result.errors)
            return answer
        proposals = [await self._propose(d.arguments) if self.propose else
                     Proposal(action=str(d.arguments.get("action", "")), target=str(d.arguments.get("target", "")),
                              reason=str(d.arguments.get("reason", "")), status="proposed")
                     for d in result.deferred]
        why = unusable(result.answer, bool(result.evidence), result.errors)
        if why and not proposals:
            # a model that failed, gathered no evidence or wrote no readable text is not an answer:
            # say so and give the deterministic engine's answer instead (issue 14)
            engine = self.deterministic(question, lang, reason=why)
            engine.errors, engine.usage, engine.evidence = result.errors, result.usage, result.evidence
            return engine
        return Answer(text=result.answer, mode="llm", evidence=result.evidence, proposals=proposals,
                      inconclusive=result.inconclusive, errors=result.errors, usage=result.usage)

    async def _propose(self, args: dict[str, Any]) -> Proposal:
        p = Proposal(action=str(args.get("action", "")), target=str(args.get("target", "")),
                     reason=str(args.get("reason", "")))
        try:
            who = self.principal
            run = await self.app.executor.propose(p.action, p.target, dict(args.get("params") or {}),
                                                  who.name if who else AGENT_ACTOR,
                                                  f"{who.credential} via agent" if who else "")
        except SteadyOpsError as exc:  # refused, unknown action/target, bad params: all recorded, none run
            p.refused = str(exc)
            return p
        p.run_id, p.status = run.id, run.status
        return p

    def deterministic(self, question: str, lang: Lang, reason: str = "", *, model_unreachable: bool = False) -> Answer:
        """No model (or no usable answer from it, ``reason`` says why; or none reachable): the open
        incidents' diagnoses and the runbook passages that match the question.

        Incidents the question names (``BackupFailed2``, a target) come first, then the most recent
        open ones, so "why is X firing?" is answered about X even when X is not among the newest.
        """
        zh = lang == "zh"
        if model_unreachable:
            lines = [t("ask.model_unreachable", lang)]
        elif reason:
            lines = [f"大模型的回答不可用（{reason}），以下为确定性引擎的结果。" if zh
                     else f"The model's answer was not usable ({reason}); the deterministic engine says:"]
        else:
            lines = ["未配置大模型，以下为确定性引擎的结果。" if zh
                     else "No LLM configured; the deterministic engine says:"]
        details: dict[str, Any] = {"incidents": [], "passages": [], "fallback_reason": reason,
                                   "model_unreachable": model_unreachable}
        with self.app.store.transaction() as s:
            for row in relevant_incidents(s, question, limit=5):
                d = diagnose.latest(s, row.id, "deterministic")
                summary = d.summary if d is not None else ("尚未诊断" if zh else "not diagnosed yet")
                lines.append(f"- #{row.id} {row.title}: {summary}")
                details["incidents"].append({"id": row.id, "title": row.title, "diagnosis": summary,
                                             "actions": d.actions if d is not None else []})
        if not details["incidents"]:
            lines.append("当前没有未解决的事件。" if zh else "No open incidents.")
        passages = self.app.knowledge.search(expand_kinds(question, self.app.registry.words()), 3)
        if passages:
            lines.append("相关处置手册：" if zh else "Relevant runbooks:")
            for p in passages:
                lines.append(f"- {p.heading} [{p.citation}]")
                details["passages"].append(p.to_dict())
        return Answer(text="\n".join(lines), mode="deterministic", inconclusive=not details["incidents"],
                      details=details)
