"""Live updates for open console pages, as Server-Sent Events.

The stream carries no data a page renders, only "something changed" (a version made of the
newest incident and timeline row ids); the page then fetches its own fragment through the normal,
role-checked route. So the stream cannot leak what its reader may not see, and a missed event
costs nothing: the next one brings the page up to date.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from steadyops.auth import Principal
from steadyops.store.tables import AlertRow, IncidentEventRow, IncidentRow
from steadyops.web.session import app_of, viewer

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 1.0
KEEPALIVE_EVERY = 15


def version(request: Request) -> str:
    app = app_of(request)
    with app.store.transaction() as s:
        incidents = s.scalar(select(func.max(IncidentRow.id))) or 0
        events = s.scalar(select(func.max(IncidentEventRow.id))) or 0
        alerts = s.scalar(select(func.max(AlertRow.updated_at)))
    return f"{incidents}.{events}.{alerts.timestamp() if alerts else 0}"


@router.get("/events")
async def events(request: Request, me: Annotated[Principal, Depends(viewer)]) -> StreamingResponse:
    async def stream() -> AsyncIterator[str]:
        last = ""
        idle = 0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            current = await asyncio.to_thread(version, request)
            if current != last:
                yield f"event: incidents\ndata: {current}\n\n"
                last, idle = current, 0
            else:
                idle += 1
                if idle >= KEEPALIVE_EVERY:
                    yield ": keep-alive\n\n"
                    idle = 0
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
