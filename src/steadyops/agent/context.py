"""What the agent needs of the composed platform, named here so the agent does not import the
composition root: ``steadyops.app.App`` has every one of these (it is checked where an App is passed
in), and the agent sits below it in the layers, with no type-only import upward.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from steadyops.config.settings import Settings
from steadyops.contracts.notifiers import Notifier
from steadyops.core.clock import Clock
from steadyops.core.inventory import Inventory
from steadyops.knowledge import Passage
from steadyops.plugins import Registry
from steadyops.remediation.executor import Executor
from steadyops.runner.checks import CheckRunner
from steadyops.sources.logs import LogSources
from steadyops.store import Store

__all__ = ["AgentApp", "Knowledge"]


class Knowledge(Protocol):
    """The knowledge base, as the agent searches it."""

    def search(self, query: str, k: int, lang: str = "auto") -> list[Passage]: ...


class AgentApp(Protocol):
    """The parts of the composed App the agent's answers, tools and MCP server use (read only)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def registry(self) -> Registry: ...

    @property
    def inventory(self) -> Inventory: ...

    @property
    def checks(self) -> CheckRunner: ...

    @property
    def executor(self) -> Executor: ...

    @property
    def knowledge(self) -> Knowledge: ...

    @property
    def logs(self) -> LogSources | None: ...

    @property
    def channels(self) -> Mapping[tuple[str, int], Notifier]: ...
