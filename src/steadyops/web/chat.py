"""Chat in the console: the same Investigator as ``steadyops ask`` and ``/api/v1/chat`` — the LLM
agent when one is configured, the deterministic engine otherwise — streamed to the page as
Server-Sent Events so the operator sees tool calls and text as they happen. Proposed actions
arrive as pending approval requests and link to their plan; nothing runs from a chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from steadyops.api.chat import ChatIn, stream_answer
from steadyops.auth import Principal
from steadyops.web.render import render
from steadyops.web.session import app_of, checked_form, lang_of, viewer

router = APIRouter(include_in_schema=False)


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    return render(request, "chat.html.j2", lang=lang_of(request), mode="llm" if app.settings.llm else "deterministic")


@router.post("/chat/stream", dependencies=[Depends(checked_form)])
async def chat_stream(request: Request, me: Annotated[Principal, Depends(viewer)],
                      question: Annotated[str, Form(min_length=1, max_length=4000)]) -> StreamingResponse:
    app = app_of(request)
    return stream_answer(app, ChatIn(question=question, lang=lang_of(request)), me)
