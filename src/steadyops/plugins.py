"""Plugin registry: one catalog per extension point, filled by ``register(registry)`` functions.

Built-ins are registered exactly like third-party plugins (entry-point group
``steadyops.plugins``), so nothing in the core knows a vendor by name: besides checks, collectors,
actions and notifiers, an integration registers the words of the ``do`` grammar for its kind
(:meth:`Registry.add_kind_alias`, :class:`DoCommand`), what ``磁盘清理`` proposes on its targets
(:class:`Cleanup`), the sections it adds to an inspection report
(:meth:`Registry.add_report_section`), the agent tools it offers (:meth:`Registry.add_toolset`) and
its runbooks (:meth:`Registry.add_runbooks`). Loading happens when the composition root asks for
it, never at import time, so importing steadyops stays cheap and a broken third-party plugin
cannot break ``import steadyops``.
"""

from __future__ import annotations

import difflib
import importlib
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar

from steadyops.core.errors import MissingExtra, PluginError

if TYPE_CHECKING:
    from steadyops.contracts.actions import Action
    from steadyops.contracts.checks import Check
    from steadyops.contracts.collectors import Collector
    from steadyops.contracts.notifiers import Notifier
    from steadyops.contracts.sections import SectionProvider
    from steadyops.contracts.toolsets import ToolContext, Toolset
    from steadyops.core.inventory import Target

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
        self._origin: dict[str, str] = {}

    def add(self, name: str, item: T, origin: str = "") -> None:
        if name in self._items:
            raise PluginError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        self._origin[name] = origin

    def origin(self, name: str) -> str:
        """The plugin that registered ``name`` ("" when it was added outside :func:`load_plugins`)."""
        return self._origin.get(name, "")

    def values(self) -> list[T]:
        return [self._items[n] for n in self.names()]

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
    """What the composition root offers plugins at start: where to keep files, past results, SSH.

    Plugins get it through a setup function (``registry.add_setup``) instead of importing the
    store or settings, so the dependency still points from the core to the plugin.
    """

    data_dir: Path
    check_history: CheckHistory
    #: the App's SSH logins (a ``steadyops.execution.logins.Logins``; typed loosely because the registry
    #: sits below the execution layer): a plugin that reaches remote hosts keeps it in its memory
    ssh: Any = None


#: (the check runner — a ``steadyops.runner.checks.CheckRunner``, typed loosely because the registry sits
#: below the runner —, the target the phrase named or None, "zh" / "en") → the chat answer, Markdown
CommandAnswer: TypeAlias = "Callable[[Any, str | None, str], Awaitable[str]]"


@dataclass(frozen=True)
class DoCommand:
    """A phrase of the ``do`` grammar an integration brings (``zk检测``): an inspection of its kind.

    ``steadyops do`` runs it as ``inspect --kind <kind> [target]`` (so its report carries the kind's
    report sections); a chat client gets :attr:`answer` when the integration has a richer one, else
    that same report. ``name`` is what answers report as their command.
    """

    name: str
    kind: str
    phrases: tuple[str, ...]
    examples: tuple[str, ...] = ()
    answer: CommandAnswer | None = None


@dataclass(frozen=True)
class Cleanup:
    """What ``磁盘清理`` proposes on a target of ``kind``: one action, its parameters from target labels.

    ``label_params`` maps a target label to an action parameter and how to read it: ``list`` splits
    on commas (``log_paths: /var/log/app,/opt/app/logs`` → ``paths``), ``float`` is a number.
    """

    kind: str
    action: str
    label_params: Mapping[str, tuple[str, Literal["list", "float"]]] = field(default_factory=dict)

    def label_for(self, param: str) -> str | None:
        """The target label that gives the action's parameter ``param`` (``paths`` → ``log_paths``), if any."""
        return next((label for label, (name, _how) in self.label_params.items() if name == param), None)

    def params(self, target: Target) -> dict[str, Any]:
        """The parameters the target's labels give (malformed numbers are left to the action's validation)."""
        out: dict[str, Any] = {}
        for label, (name, how) in self.label_params.items():
            raw = target.labels.get(label)
            if not raw:
                continue
            if how == "list":
                out[name] = [p.strip() for p in raw.split(",") if p.strip()]
            else:
                try:
                    out[name] = float(raw)
                except ValueError:
                    out[name] = raw
        return out


class Registry:
    """Every catalog the platform has; one per concept in DESIGN.md §3 and §4."""

    def __init__(self) -> None:
        self.notifiers: Catalog[type[Notifier]] = Catalog("notifier")
        self.checks: Catalog[type[Check]] = Catalog("check")
        self.collectors: Catalog[type[Collector]] = Catalog("collector")
        self.actions: Catalog[type[Action]] = Catalog("action")
        self.commands: Catalog[DoCommand] = Catalog("do command")
        self.cleanups: Catalog[Cleanup] = Catalog("cleanup for kind")
        self.report_sections: Catalog[SectionProvider] = Catalog("report section")
        self.toolsets: Catalog[Callable[[ToolContext], Toolset]] = Catalog("toolset")
        #: the grammar's nouns as registered: alias → target kind (see :meth:`words` for all of them)
        self.kind_aliases: dict[str, str] = {}
        self.examples: list[str] = []  #: phrases for the grammar's help, beyond the commands' own
        self.runbooks: Catalog[str] = Catalog("runbook package")  #: packages whose runbooks/*.md are indexed
        self.loaded: list[str] = []
        #: built-in plugins not loaded because an optional driver is missing → what to install
        self.missing: dict[str, str] = {}
        self.setups: list[Callable[[PluginContext], None]] = []
        self.shutdowns: list[Callable[[], Awaitable[None]]] = []
        self.loading = ""  #: the plugin whose register() runs now, recorded as each item's origin

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
        self.notifiers.add(cls.name, cls, self.loading)

    def add_check(self, cls: type[Check]) -> None:
        self.checks.add(cls.name, cls, self.loading)

    def add_collector(self, cls: type[Collector]) -> None:
        self.collectors.add(cls.name, cls, self.loading)

    def add_action(self, cls: type[Action]) -> None:
        self.actions.add(cls.name, cls, self.loading)

    def add_command(self, command: DoCommand) -> None:
        """A ``do`` phrase for one kind (``zk检测``); its phrases may not shadow another command's."""
        taken = {normalise_phrase(p): c.name for c in self.commands.values() for p in c.phrases}
        for phrase in command.phrases:
            if normalise_phrase(phrase) in taken:
                raise PluginError(f"do phrase {phrase!r} is already registered by {taken[normalise_phrase(phrase)]!r}")
        self.commands.add(command.name, command, self.loading)

    def add_kind_alias(self, kind: str, *aliases: str, examples: Sequence[str] = ()) -> None:
        """Words the grammar reads as ``kind`` (``巡检 显卡`` → gpu); one word means one kind.
        ``examples``: phrases the grammar shows in its help (``GPU巡检``)."""
        self.examples.extend(e for e in examples if e not in self.examples)
        for alias in (kind, *aliases):
            word = normalise_phrase(alias)
            if self.kind_aliases.get(word, kind) != kind:
                raise PluginError(f"kind alias {alias!r} already means {self.kind_aliases[word]!r}")
            self.kind_aliases[word] = kind

    def add_cleanup(self, cleanup: Cleanup) -> None:
        """What ``磁盘清理`` proposes on targets of ``cleanup.kind`` (one action per kind)."""
        self.cleanups.add(cleanup.kind, cleanup, self.loading)

    def add_report_section(self, key: str, provider: SectionProvider) -> None:
        """A section every inspection report gets when ``provider`` has something to say about its findings."""
        self.report_sections.add(key, provider, self.loading)

    def add_runbooks(self, package: str) -> None:
        """Index ``<package>/runbooks/*.md`` in the knowledge base (citations name the package's path).
        The built-ins' runbooks ship inside steadyops and are indexed without this."""
        if package not in self.runbooks:
            self.runbooks.add(package, package, self.loading)

    @property
    def runbook_packages(self) -> list[str]:
        return self.runbooks.names()

    def add_toolset(self, name: str, factory: Callable[[ToolContext], Toolset]) -> None:
        """Agent tools (read-only unless they say ``mutates``), built per conversation from a :class:`ToolContext`."""
        self.toolsets.add(name, factory, self.loading)

    def words(self) -> dict[str, str]:
        """Every word the grammar reads as a kind: the registered aliases, and each checked kind's own name."""
        own = {normalise_phrase(cls.target_kind): cls.target_kind for cls in self.checks.values()
               if cls.target_kind != "*"}
        return {**own, **self.kind_aliases}

    def kind_of(self, word: str) -> str:
        """The kind a user's word names (``zk`` → zookeeper); an unknown word is taken as a kind itself."""
        word = normalise_phrase(word)
        return self.words().get(word, word)

    def sections(self) -> list[tuple[str, SectionProvider]]:
        """(key, provider) for every report section, for :func:`steadyops.reports.sections.collect_sections`."""
        return [(key, self.report_sections.get(key)) for key in self.report_sections.names()]

    def cleanup_for(self, kind: str) -> Cleanup | None:
        return self.cleanups.get(kind) if kind in self.cleanups else None

    def checks_for(self, kind: str) -> list[type[Check]]:
        return [self.checks.get(n) for n in self.checks.names() if self.checks.get(n).target_kind == kind]


def normalise_phrase(text: str) -> str:
    """Full-width to half-width, lower case, single spaces — how the grammar compares words."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).strip().lower())


def require_driver(module: str, *, extra: str, kind: str, purpose: str) -> None:
    """Raise :class:`MissingExtra` (naming the pip extra) unless ``module`` imports.

    An integration whose driver is optional calls this first thing in its ``__init__``, before it
    imports the driver anywhere: ``require_driver("pymysql", extra="mysql", kind="mysql", ...)``.
    """
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(extra, module, purpose, kind=kind) from exc


def _driver_missing(error: MissingExtra) -> type[Any]:
    """A stand-in check for a kind whose integration could not load: every target of that kind gets
    an UNKNOWN finding that says which extra to install, instead of silently no checks at all."""
    from steadyops.contracts.checks import Check
    from steadyops.core.models import CheckResult, CheckStatus

    message = str(error)

    class DriverMissing(Check):
        __doc__ = f"Stands in for the {error.kind} integration: {message}."
        name = f"{error.kind}.driver"
        target_kind = error.kind

        async def run(self, target: Any) -> CheckResult:
            return CheckResult(status=CheckStatus.UNKNOWN, layer="config", summary=message)

    return DriverMissing


def load_plugins(registry: Registry | None = None, *, entry_points_too: bool = True) -> Registry:
    """Import built-ins, then third-party entry points, and let each register itself.

    A built-in whose optional driver is not installed (:func:`require_driver`) is skipped: it is
    listed in ``registry.missing`` with the pip extra to install, and a stand-in check for its kind
    reports the same on every target of that kind.
    """
    registry = registry or Registry()
    modules: list[tuple[str, Callable[[Registry], None]]] = []
    for dotted in BUILTIN_PLUGINS:
        try:
            mod = importlib.import_module(dotted)
        except MissingExtra as exc:
            registry.missing[dotted] = str(exc)
            if exc.kind:
                registry.loading = dotted
                try:
                    registry.add_check(_driver_missing(exc))
                finally:
                    registry.loading = ""
            continue
        modules.append((dotted, mod.register))
    if entry_points_too:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            modules.append((ep.value, ep.load()))
    for name, register in modules:
        registry.loading = name
        try:
            register(registry)
        finally:
            registry.loading = ""
        registry.loaded.append(name)
    return registry
