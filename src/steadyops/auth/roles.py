"""Roles and what each may do.

The human roles form a ladder, each including the one below it::

    viewer     read incidents, alerts, silences, runs, reports, the knowledge base; ask questions
    responder  + acknowledge / resolve incidents, silences, run inspections, plan and apply actions
    approver   + approve or reject remediation plans (four eyes: distinct people, never the requester)
    admin      + users, tokens, knowledge-base deletion, everything

``ingest`` stands apart from the ladder on purpose: a sender (Alertmanager, a script) may post alerts
to the intake endpoints and nothing else, so a leaked sender token cannot read or change incidents.
``admin`` may post to intake too (for a manual test), no other role may.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    INGEST = "ingest"
    VIEWER = "viewer"
    RESPONDER = "responder"
    APPROVER = "approver"
    ADMIN = "admin"


#: the ladder of human roles, lowest first
LADDER: tuple[Role, ...] = (Role.VIEWER, Role.RESPONDER, Role.APPROVER, Role.ADMIN)


def allows(have: Role, need: Role) -> bool:
    """Does a principal holding ``have`` satisfy a route that needs ``need``?"""
    if need is Role.INGEST:
        return have in (Role.INGEST, Role.ADMIN)
    if have is Role.INGEST:
        return False
    return LADDER.index(have) >= LADDER.index(need)


def at_most(requested: Role, ceiling: Role) -> bool:
    """May a principal holding ``ceiling`` mint a token scoped to ``requested``? (never above itself)"""
    if requested == ceiling:
        return True
    return allows(ceiling, requested) and not (requested is Role.INGEST and ceiling is not Role.ADMIN)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {value!r}; one of: {', '.join(r.value for r in Role)}") from None


class _ToolLike(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def mutates(self) -> bool: ...


def tool_role(tool: _ToolLike) -> Role:
    """The role an agent/MCP/chat tool needs: its own ``role``, else responder for a mutating tool
    (it proposes a plan) and viewer for a read-only one."""
    if tool.role:
        return parse_role(tool.role)
    return Role.RESPONDER if tool.mutates else Role.VIEWER
