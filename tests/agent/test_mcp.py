"""The MCP server, exercised with the official SDK's own clients over stdio and streamable HTTP."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from steadyops.agent.mcp_server import streamable_http_app
from steadyops.store.tables import ActionRunRow
from steadyops.testing.auth import bearer, token_for


async def _exercise(session: ClientSession) -> dict[str, Any]:
    await session.initialize()
    listed = await session.list_tools()
    names = {t.name for t in listed.tools}
    topo = await session.call_tool("topology", {})
    bad = await session.call_tool("incident_history", {"limit": "many"})
    return {"names": names, "topology": json.loads(topo.content[0].text), "bad": bad,  # type: ignore[union-attr]
            "tools": listed.tools}


async def test_stdio_with_sdk_client(tmp_path: Path) -> None:
    env = {**os.environ, "STEADYOPS_DATA_DIR": str(tmp_path), "STEADYOPS_LANG": "en"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "steadyops", "mcp"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        got = await _exercise(session)
    assert {"topology", "incident_history", "propose_action", "current_alerts"} <= got["names"]
    assert got["topology"][0]["kind"] == "host"
    assert got["bad"].isError
    propose = next(t for t in got["tools"] if t.name == "propose_action")
    assert propose.annotations.readOnlyHint is False


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(streamable_http_app(app), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return server, thread, server.servers[0].sockets[0].getsockname()[1]


async def test_streamable_http_propose_is_pending_only(remediation_app: Any) -> None:
    """Over HTTP: no token → 401 before MCP; a viewer may read but not propose; a responder's proposal
    is requested in their own name and stays pending."""
    app = remediation_app
    server, thread, port = _serve(app)
    url = f"http://127.0.0.1:{port}/mcp/"
    viewer, dave = token_for(app, "watcher", "viewer"), token_for(app, "dave", "responder")
    try:
        async with httpx.AsyncClient() as anon:
            r = await anon.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                headers={"accept": "application/json, text/event-stream"})
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
            r = await anon.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                headers={"accept": "application/json, text/event-stream",
                                         "authorization": "Bearer so_0000_forged"})
            assert r.status_code == 401
        async with httpx.AsyncClient(headers=bearer(viewer)) as http, \
                streamable_http_client(url, http_client=http) as (read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            assert (await session.call_tool("topology", {})).isError is False
            denied = await session.call_tool("propose_action", {"action": "host.clean_logs", "target": "web-1",
                                                                "params": {"paths": [str(app.test_logs)]},
                                                                "reason": "disk"})
            assert denied.isError and "needs the responder role" in denied.content[0].text  # type: ignore[union-attr]
        async with httpx.AsyncClient(headers=bearer(dave)) as http, \
                streamable_http_client(url, http_client=http) as (read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            r = await session.call_tool("propose_action", {"action": "host.clean_logs", "target": "web-1",
                                                           "params": {"paths": [str(app.test_logs)]},
                                                           "reason": "disk"})
            out = json.loads(r.content[0].text)  # type: ignore[union-attr]
            refused = await session.call_tool("propose_action", {"action": "host.clean_logs", "target": "web-1",
                                                                 "params": {"paths": ["/etc"]}, "reason": "x"})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert out["proposed"] and out["status"] == "pending_approval"
    assert "allow-list" in json.loads(refused.content[0].text)["refused"]  # type: ignore[union-attr]
    assert len(list(app.test_logs.iterdir())) == 6  # nothing executed
    with app.store.transaction() as s:
        run = s.get(ActionRunRow, out["run_id"])
        assert run is not None and run.requested_by == "dave"
