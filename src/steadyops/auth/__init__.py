"""Identities (users, service accounts, tokens, OIDC), roles, and the request's principal.

For route authors (every API route, MCP tool and chat tool needs a role — a test enforces it)::

    from steadyops.auth import Viewer, Responder, Approver, Admin, Ingest, Public

    @router.post("/{incident_id}/ack")
    def ack(incident_id: int, me: Responder, ...):   # 401 without a token, 403 below responder
        ... me.name ...                               # the actor; never a "by" field from the body

See ``auth/roles.py`` for what each role may do.
"""

from __future__ import annotations

from steadyops.auth.deps import (
    PUBLIC,
    Admin,
    Approver,
    Ingest,
    Public,
    Responder,
    RoleCheck,
    Viewer,
    authenticate_request,
    require_role,
)
from steadyops.auth.principal import LOCAL, Principal
from steadyops.auth.roles import Role, allows

__all__ = [
    "LOCAL",
    "PUBLIC",
    "Admin",
    "Approver",
    "Ingest",
    "Principal",
    "Public",
    "Responder",
    "Role",
    "RoleCheck",
    "Viewer",
    "allows",
    "authenticate_request",
    "require_role",
]
