"""Chat over HTTP, with Server-Sent Events for clients that want the answer as it forms.

The same Investigator as ``steadyops ask``: the LLM agent when configured, the deterministic engine
otherwise; model-proposed changes come back as pending approval requests, never as actions taken.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from steadyops.agent.ask import Answer, Investigator
from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Principal, Viewer
from steadyops.core.i18n import normalise

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])


class ChatIn(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    lang: Literal["zh", "en"] | None = None


class ChatOut(BaseModel):
    answer: str
    mode: str
    inconclusive: bool
    evidence: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    errors: list[str]
    details: dict[str, Any]


def _out(a: Answer) -> ChatOut:
    return ChatOut(answer=a.text, mode=a.mode, inconclusive=a.inconclusive,
                   evidence=[{"id": e.id, "tool": e.tool, "source": e.source, "arguments": e.arguments}
                             for e in a.evidence],
                   proposals=[p.__dict__ for p in a.proposals], errors=a.errors, details=a.details)


@router.post("", response_model=ChatOut, summary="Ask a question (JSON answer)")
async def chat(me: Viewer, body: ChatIn, app: Annotated[App, Depends(get_app)]) -> ChatOut:
    lang = body.lang or normalise(app.settings.lang)
    return _out(await Investigator(app, principal=me).ask(body.question, lang))


@router.post("/stream", summary="Ask a question (Server-Sent Events: evidence, proposal, answer, done)",
             response_class=StreamingResponse)
async def chat_stream(me: Viewer, body: ChatIn, app: Annotated[App, Depends(get_app)]) -> StreamingResponse:
    return stream_answer(app, body, me)


def stream_answer(app: App, body: ChatIn, me: Principal) -> StreamingResponse:
    """The answer as Server-Sent Events; the console's chat page streams through this too."""
    lang = body.lang or normalise(app.settings.lang)

    async def events() -> AsyncIterator[str]:
        def sse(event: str, data: object) -> str:
            return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

        yield sse("start", {"mode": "llm" if app.settings.llm else "deterministic"})
        queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

        async def forward(event: str, data: dict[str, Any]) -> None:
            await queue.put((event, data))

        async def work() -> Answer:
            try:
                return await Investigator(app, principal=me).ask(body.question, lang, on_event=forward)
            finally:
                await queue.put(None)

        task = asyncio.create_task(work())
        streamed = False
        while (item := await queue.get()) is not None:
            streamed |= item[0] == "delta"
            yield sse(*item)
        answer = _out(await task)
        for e in answer.evidence:
            yield sse("evidence", e)
        for p in answer.proposals:
            yield sse("proposal", p)
        if not streamed:  # a non-streaming endpoint or the deterministic engine: send the text in pieces
            for i in range(0, len(answer.answer), 80):
                yield sse("delta", {"text": answer.answer[i:i + 80]})
        yield sse("done", answer.model_dump())

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
