"""The two ways running something on a target fails, shared by inspection and remediation.

:class:`HostAccessError` — the host could not be asked at all (no route, a refused or unknown host
key, a login refused, a read-only command that hung). It carries the verdict a check should give
(UNKNOWN, or CRITICAL for a host-key mismatch) and the layer to localise the failure to, so the SSH
login code decides once what a failure *means* and every check and action reads it the same way.

:class:`ShellError` — a mutating step's command failed on the target: the step stops there and
nothing after it runs (the executor audits it).
"""

from __future__ import annotations

from steadyops.core.errors import ActionFailed, Unanswered
from steadyops.core.models import CheckStatus

__all__ = ["HostAccessError", "ShellError"]


class HostAccessError(Unanswered):
    """The host could not be asked: carries the check's verdict, the layer, and what happened."""

    def __init__(self, message: str, *, layer: str = "network", status: CheckStatus = CheckStatus.UNKNOWN,
                 source: str = "host access", detail: str = "") -> None:
        super().__init__(message, layer=layer)
        self.message = message
        self.status = status
        self.source = source
        self.detail = detail or message


class ShellError(ActionFailed):
    """A command failed on the target: the step stops there, and nothing after it runs."""
