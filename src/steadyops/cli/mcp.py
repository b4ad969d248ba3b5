"""``steadyops mcp``: serve the read-only tools and ``propose_action`` to MCP hosts.

Over HTTP every request needs a token (as the API); over stdio the caller is the local operator.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

import typer

from steadyops.cli.common import fail, state
from steadyops.core.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command()
    def mcp(
        transport: Annotated[Literal["stdio", "http"], typer.Option(help="stdio or streamable HTTP")] = "stdio",
        host: Annotated[str, typer.Option(help="bind address for http")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port for http")] = 8901,
    ) -> None:
        """Model Context Protocol server (stdio or streamable HTTP). / MCP 服务。"""
        from steadyops.agent.mcp_server import serve_stdio, streamable_http_app
        from steadyops.app import build_app

        try:
            core = build_app(state.settings())
        except ConfigError as exc:
            fail(str(exc))
        if transport == "stdio":
            asyncio.run(serve_stdio(core))
            return
        import uvicorn

        from steadyops.cli.serve import check_listen

        cert, key = check_listen(core.settings.model_copy(update={"host": host}))  # same rule as serve
        uvicorn.run(streamable_http_app(core), host=host, port=port, log_level="warning",
                    ssl_certfile=cert, ssl_keyfile=key)
