"""Every agent tool has a role, and a chat or MCP caller only gets the tools their role allows."""

from __future__ import annotations

from typing import Any

from steadyops.agent.ask import Investigator
from steadyops.agent.tools import PlatformToolset
from steadyops.auth import Principal, Role
from steadyops.auth.roles import tool_role


def who(role: Role) -> Principal:
    return Principal(id=1, name=f"as-{role.value}", kind="user", role=role, credential="token:test")


def test_each_tool_has_a_role_and_roles_filter_tools(make_app: Any) -> None:
    app = make_app()
    tools = PlatformToolset(app).tools()
    assert tools and all(isinstance(tool_role(t), Role) for t in tools)
    mutating = {t.name for t in tools if t.mutates}
    assert mutating and all(tool_role(t) is Role.RESPONDER for t in tools if t.mutates)
    for role in Role:
        names = {t.name for t in Investigator(app, principal=who(role)).tools}
        if role in (Role.VIEWER,):
            assert names and not names & mutating
        elif role is Role.INGEST:
            assert names == set()  # a sender token cannot chat at all (the route refuses it anyway)
        else:
            assert mutating <= names
    assert {t.name for t in Investigator(app).tools} == {t.name for t in tools}  # local: everything
