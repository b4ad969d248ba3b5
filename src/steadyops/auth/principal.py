"""Who is calling: the principal every request, MCP call and chat turn carries."""

from __future__ import annotations

from dataclasses import dataclass

from steadyops.auth.roles import Role


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``role`` is the effective role: the token's scope, never more than the principal's own role.
    ``credential`` names what authenticated the request (``token:<key>``, ``session:<key>``,
    ``password``, ``local``), so an audit entry says not only who but with which credential.
    """

    id: int
    name: str
    kind: str  # user | service | local | link (a signed acknowledgement link's holder, api/oncall.py)
    role: Role
    credential: str

    @property
    def is_person(self) -> bool:
        """Only people count towards four eyes; a service account never approves."""
        return self.kind == "user"


#: the identity of an explicit ``--local`` CLI run (no server, the operator at the console)
LOCAL = Principal(id=0, name="local", kind="local", role=Role.ADMIN, credential="local")
