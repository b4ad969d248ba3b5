"""The Toolset contract: what the agent may call.

A tool is read-only unless it says ``mutates=True``; a mutating tool is never run by the agent
loop — the call ends the run as a pending approval request that goes through the remediation
policy, exactly as pydantic-ai defers tools that need approval.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from steadyops.core.inventory import Inventory


@dataclass(frozen=True)
class Tool:
    name: str  # ^[a-zA-Z0-9_-]{1,64}$ (what every Chat Completions endpoint accepts)
    description: str
    params: type[BaseModel]
    run: Callable[[BaseModel], Awaitable[Any]]
    mutates: bool = False
    #: where the result came from, for citations ("check zookeeper.ruok on zk-1", "kb runbook …")
    source: str = ""
    #: the role a caller needs (steadyops.auth.roles); "" = viewer, or responder when ``mutates``
    role: str = ""

    def schema(self) -> dict[str, Any]:
        schema = self.params.model_json_schema()
        schema.pop("title", None)
        return schema


@dataclass(frozen=True)
class ToolContext:
    """What the platform lends a plugin's toolset (``registry.add_toolset``) for one conversation:
    the check runner (to run its own read-only checks and collectors) and the inventory.

    ``checks`` is a :class:`steadyops.runner.checks.CheckRunner`, typed loosely on purpose: the
    contracts sit below the runner and must not import it, not even for type checking."""

    checks: Any
    inventory: Inventory


class Toolset(ABC):
    @abstractmethod
    def tools(self) -> Sequence[Tool]:
        """The tools this set offers now (may depend on configuration)."""
