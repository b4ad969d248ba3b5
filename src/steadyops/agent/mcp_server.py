"""An MCP server over steadyops' read-only tools and ``propose_action``, for any MCP host (an IDE,
a chat client, another agent). Built on the official ``mcp`` SDK (major version 1, pinned).

Everything leaving here goes to somebody's LLM, so results are masked like the agent's own; and
``propose_action`` only creates a plan awaiting approval through the remediation policy — there is
no apply tool.

Over HTTP every request needs a token (401 otherwise, before MCP sees it), each tool call is checked
against the caller's role (a viewer cannot propose), and a proposal is requested in the caller's
name. Over stdio the caller is whoever started the process on this machine (the local operator).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from steadyops import __version__
from steadyops.agent.context import AgentApp
from steadyops.agent.guard import Redactor
from steadyops.agent.logtools import LogToolset
from steadyops.agent.tools import PlatformToolset, plugin_tools, render_result
from steadyops.auth.deps import SESSION_COOKIE, authenticate_credentials
from steadyops.auth.principal import Principal
from steadyops.auth.roles import allows, tool_role
from steadyops.contracts.toolsets import Tool
from steadyops.core.errors import SteadyOpsError, Unauthenticated

MCP_ACTOR = "mcp"


def build_server(app: AgentApp, extra_tools: list[Tool] | None = None) -> Server[Any, Any]:
    logs = [*LogToolset(app.logs).tools()] if app.logs is not None else []
    tools = {t.name: t for t in [*PlatformToolset(app).tools(), *plugin_tools(app), *logs, *(extra_tools or [])]}
    redactor = Redactor()
    server: Server[Any, Any] = Server("steadyops", version=__version__,
                                      instructions="Read-only SRE tools. propose_action never executes anything.")

    @server.list_tools()  # type: ignore[no-untyped-call,untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [types.Tool(name=t.name, description=t.description, inputSchema=t.schema(),
                           annotations=types.ToolAnnotations(readOnlyHint=not t.mutates,
                                                             destructiveHint=False, idempotentHint=not t.mutates))
                for t in tools.values()]

    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        tool = tools.get(name)
        if tool is None:
            raise ValueError(f"unknown tool {name!r}")
        try:
            params = tool.params.model_validate(arguments or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValueError(f"invalid arguments: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        principal = _caller(app, server)
        if principal is not None and not allows(principal.role, tool_role(tool)):
            raise ValueError(f"{principal.name} ({principal.role.value}) may not call {name}; "
                             f"it needs the {tool_role(tool).value} role")
        if tool.mutates:
            result = await _propose(app, params.model_dump(mode="json"), principal)
        else:
            result = await tool.run(params)
        return [types.TextContent(type="text", text=redactor.mask(render_result(result)))]

    return server


def _caller(app: AgentApp, server: Server[Any, Any]) -> Principal | None:
    """The HTTP caller (authenticated again from the request the tool call came in); None on stdio."""
    try:
        request = server.request_context.request
    except LookupError:
        return None
    if request is None:
        return None
    headers = getattr(request, "headers", {})
    cookies = getattr(request, "cookies", {})
    return authenticate_credentials(app, headers.get("authorization", ""), cookies.get(SESSION_COOKIE))


async def _propose(app: AgentApp, args: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    try:
        run = await app.executor.propose(str(args["action"]), str(args["target"]), dict(args.get("params") or {}),
                                         principal.name if principal else MCP_ACTOR,
                                         f"{principal.credential} via mcp" if principal else "")
    except SteadyOpsError as exc:
        return {"proposed": False, "refused": str(exc)}
    return {"proposed": True, "run_id": run.id, "status": run.status, "plan_hash": run.plan_hash,
            "note": "not executed; a human approves and applies it with `steadyops act`"}


async def serve_stdio(app: AgentApp) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(app)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def streamable_http_app(app: AgentApp, path: str = "/mcp") -> Starlette:
    """A Starlette app serving MCP's streamable HTTP transport at ``path``."""
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    manager = StreamableHTTPSessionManager(build_server(app), stateless=True, json_response=True)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            await run_in_threadpool(authenticate_credentials, app, request.headers.get("authorization", ""),
                                    request.cookies.get(SESSION_COOKIE))
        except Unauthenticated as exc:
            reply = JSONResponse({"error": "Unauthenticated", "detail": str(exc)}, status_code=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="steadyops"'})
            await reply(scope, receive, send)
            return
        await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Starlette(routes=[Mount(path, app=handle)], lifespan=lifespan)


def describe(app: AgentApp) -> str:
    return json.dumps(sorted(t.name for t in PlatformToolset(app).tools()))
