"""Plugin registry: one catalog per extension point, filled by ``register(registry)`` functions.

Built-ins are registered exactly like third-party plugins (entry-point group
``steadyops.plugins``), so nothing in the core knows a vendor by name. Loading happens when the
composition root asks for it, never at import time, so importing steadyops stays cheap and a broken
third-party plugin cannot break ``import steadyops``.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from steadyops.core.errors import PluginError

if TYPE_CHECKING:
    from steadyops.contracts.actions import Action
    from steadyops.contracts.checks import Check
    from steadyops.contracts.collectors import Collector
    from steadyops.contracts.notifiers import Notifier

T = TypeVar("T")

ENTRY_POINT_GROUP = "steadyops.plugins"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "steadyops.integrations.host",
    "steadyops.integrations.zookeeper",
    "steadyops.integrations.redis",
    "steadyops.integrations.nginx",
    "steadyops.integrations.mysql",
    "steadyops.integrations.postgres",
    "steadyops.integrations.rabbitmq",
    "steadyops.integrations.prometheus",
    "steadyops.integrations.http_probe",
    "steadyops.integrations.gpu",
    "steadyops.integrations.inference",
    "steadyops.integrations.dingtalk",
    "steadyops.integrations.wecom",
    "steadyops.integrations.feishu",
    "steadyops.integrations.slack",
    "steadyops.integrations.webhook",
    "steadyops.integrations.email",
)


class Catalog(Generic[T]):
    """Name → plugin class, refusing duplicates and suggesting close names on a typo."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> None:
        if name in self._items:
            raise PluginError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._items), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(self._items))}"
            raise PluginError(f"unknown {self.kind} {name!r}{hint}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)


#: (check, target, since, limit) -> [(started_at, metrics)], newest first
CheckHistory = Callable[[str, str, datetime, int], list[tuple[datetime, dict[str, Any]]]]


@dataclass(frozen=True)
class PluginContext:
    """What the composition root offers plugins at start: where to keep files, and past results.

    Plugins get it through a setup function (``registry.add_setup``) instead of importing the
    store or settings, so the dependency still points from the core to the plugin.
    """

    data_dir: Path
    check_history: CheckHistory


class Registry:
    """Every catalog the platform has; one per concept in DESIGN.md §3."""

    def __init__(self) -> None:
        self.notifiers: Catalog[type[Notifier]] = Catalog("notifier")
        self.checks: Catalog[type[Check]] = Catalog("check")
        self.collectors: Catalog[type[Collector]] = Catalog("collector")
        self.actions: Catalog[type[Action]] = Catalog("action")
        self.loaded: list[str] = []
        self.setups: list[Callable[[PluginContext], None]] = []
        self.shutdowns: list[Callable[[], Awaitable[None]]] = []

    def add_setup(self, fn: Callable[[PluginContext], None]) -> None:
        """Run ``fn`` once the platform is composed (data dir known, store open)."""
        self.setups.append(fn)

    def add_shutdown(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Await ``fn`` when the server stops (close pooled connections …)."""
        self.shutdowns.append(fn)

    def setup(self, context: PluginContext) -> None:
        for fn in self.setups:
            fn(context)

    def add_notifier(self, cls: type[Notifier]) -> None:
        self.notifiers.add(cls.name, cls)

    def add_check(self, cls: type[Check]) -> None:
        self.checks.add(cls.name, cls)

    def add_collector(self, cls: type[Collector]) -> None:
        self.collectors.add(cls.name, cls)

    def add_action(self, cls: type[Action]) -> None:
        self.actions.add(cls.name, cls)

    def checks_for(self, kind: str) -> list[type[Check]]:
        return [self.checks.get(n) for n in self.checks.names() if self.checks.get(n).target_kind == kind]


def load_plugins(registry: Registry | None = None, *, entry_points_too: bool = True) -> Registry:
    """Import built-ins, then third-party entry points, and let each register itself."""
    registry = registry or Registry()
    modules: list[tuple[str, Callable[[Registry], None]]] = []
    for dotted in BUILTIN_PLUGINS:
        mod = importlib.import_module(dotted)
        modules.append((dotted, mod.register))
    if entry_points_too:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            modules.append((ep.value, ep.load()))
    for name, register in modules:
        register(registry)
        registry.loaded.append(name)
    return registry
