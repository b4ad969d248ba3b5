"""Composition root: settings → store → plugins → inventory → pipeline (+ the LLM investigation hook) →
runner and scheduler → executor → jobs (embedded or Celery, ``runner.engine``: :mod:`steadyops.jobs`).
Wiring only, no logic; :meth:`App.run` starts the background engine."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from steadyops.config.settings import RouteConfig, Settings, describe_validation_error, load_settings
from steadyops.contracts.notifiers import Notifier
from steadyops.core.clock import Clock, SystemClock
from steadyops.core.errors import ConfigError, PluginError
from steadyops.core.i18n import normalise
from steadyops.core.inventory import Inventory
from steadyops.execution.logins import Logins, SshSettings
from steadyops.jobs import Jobs, jobs_for
from steadyops.knowledge import Passage, SyncedKnowledgeBase, open_knowledge_base
from steadyops.operations.wiring import rhythm_evidence, start_rhythm
from steadyops.pipeline import Pipeline, build_pipeline
from steadyops.pipeline.chain import ChainEvidence
from steadyops.pipeline.diagnose import Diagnoser
from steadyops.pipeline.route import Route
from steadyops.plugins import PluginContext, Registry, load_plugins
from steadyops.remediation import demo
from steadyops.remediation.audit import AuditLog
from steadyops.remediation.executor import Executor
from steadyops.reports.rhythm import ReportScheduler
from steadyops.runner.checks import CheckRunner
from steadyops.runner.scheduler import Scheduler
from steadyops.sources.logs import LogSources
from steadyops.store import Store
from steadyops.store import checks as checks_repo


class LazyKnowledge:
    """The knowledge base, indexed on first use: start-up stays fast and a CLI that never searches
    never pays for jieba and the index."""

    def __init__(self, data_dir: Path, runbooks: Sequence[str] = ()) -> None:
        self.data_dir = data_dir
        self.runbooks = tuple(runbooks)  #: packages whose runbooks/ plugins registered
        self._kb: SyncedKnowledgeBase | None = None
        self._lock = threading.Lock()

    def get(self) -> SyncedKnowledgeBase:
        with self._lock:
            if self._kb is None:
                self._kb = open_knowledge_base(self.data_dir, runbooks=self.runbooks)
            else:
                self._kb.sync()
            return self._kb

    def search(self, query: str, k: int, lang: str = "auto") -> list[Passage]:
        """``lang``: prefer passages in that language (``auto``: the query's own)."""
        prefer = lang if lang in ("zh", "en") else "auto"
        return self.get().search(query, k, lang=prefer)


@dataclass
class App:
    settings: Settings
    store: Store
    registry: Registry
    inventory: Inventory
    pipeline: Pipeline
    clock: Clock
    checks: CheckRunner
    audit: AuditLog
    executor: Executor
    knowledge: LazyKnowledge
    channels: dict[tuple[str, int], Notifier] = field(default_factory=dict)
    logs: LogSources | None = None
    scheduler: Scheduler | None = None
    #: where jobs run: in this process, or on Celery workers (``runner.engine``)
    jobs: Jobs | None = None
    #: this App's SSH: its known_hosts under the data dir and its pooled logins (offered to the plugins)
    ssh: Logins = field(default_factory=Logins)

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.close()
        self.store.close()

    async def shutdown(self) -> None:
        """When the server stops: the plugins' shutdown hooks, then this App's pooled SSH logins."""
        for hook in self.registry.shutdowns:
            await hook()
        await self.ssh.close()

    async def run(self, stop: asyncio.Event) -> None:
        """The background engine of ``serve``: the pipeline (with the investigation hook :func:`build_app`
        wired) and the scheduled inspections, until ``stop``; the scheduler cancels its rounds on the way out."""
        tasks = [asyncio.create_task(self.pipeline.run(stop), name="pipeline")]
        if self.scheduler is not None and self.settings.inspection.enabled:
            tasks.append(asyncio.create_task(self.scheduler.run_forever(stop), name="scheduler"))
        await asyncio.gather(*tasks)


def build_channels(settings: Settings, registry: Registry,
                   client: httpx.AsyncClient | None = None) -> dict[tuple[str, int], Notifier]:
    """Instantiate every receiver's channels, failing at start with the field path on a bad one."""
    channels: dict[tuple[str, int], Notifier] = {}
    names = {r.name for r in settings.receivers}
    for where, receiver_name in _route_receivers(settings.route, "route"):
        if receiver_name is not None and receiver_name not in names:
            raise ConfigError(f"{where}.receiver: receiver {receiver_name!r} is not defined in receivers")
    for r_index, receiver in enumerate(settings.receivers):
        for c_index, channel in enumerate(receiver.channels):
            where = f"receivers.{r_index}.channels.{c_index}"
            try:
                cls = registry.notifiers.get(channel.type)
            except PluginError as exc:
                raise ConfigError(f"{where}.type: {exc}") from exc
            raw: dict[str, Any] = dict(channel.model_extra or {})
            try:
                config = cls.Config.model_validate(raw)
            except ValidationError as exc:
                raise ConfigError(f"{where}: {describe_validation_error(exc)}") from exc
            channels[(receiver.name, c_index)] = cls(config, client)
    return channels


def _route_receivers(route: RouteConfig, where: str) -> list[tuple[str, str | None]]:
    found = [(where, route.receiver)]
    for i, child in enumerate(route.routes):
        found.extend(_route_receivers(child, f"{where}.routes.{i}"))
    return found


def private_dir(path: Path) -> None:
    """The data dir holds the database, the audit key and the admin token: owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def build_app(settings: Settings | None = None, *, config_file: Path | None = None, clock: Clock | None = None,
              registry: Registry | None = None, http_client: httpx.AsyncClient | None = None) -> App:
    settings = settings or load_settings(config_file)
    private_dir(settings.data_dir)
    registry = registry or load_plugins()
    if settings.demo:
        settings = demo.apply(settings, registry)
    clock = clock or SystemClock()
    inventory = demo.add_target(Inventory.load(settings.inventory), settings, registry)
    channels = build_channels(settings, registry, http_client)
    # journalled events are sharded by what the routing tree groups by (store/alerts.py shard_of)
    store = Store(settings.effective_database_url, shard_by=Route.build(settings.route).shard_labels())
    # steadyops' own known_hosts (accept-new) under this App's data dir, for inspection and actions alike
    ssh = Logins(SshSettings(known_hosts_dir=settings.data_dir / "ssh"))
    registry.setup(PluginContext(data_dir=settings.data_dir, ssh=ssh,
                                 check_history=functools.partial(checks_repo.recent_metrics, store)))
    knowledge = LazyKnowledge(settings.data_dir, registry.runbook_packages)
    logs = LogSources(settings.log_sources, known_targets=inventory.targets,
                      now=lambda: clock.now().timestamp()) if settings.log_sources else None
    pipeline = build_pipeline(settings, store, clock, inventory, channels,
                              diagnoser=Diagnoser(registry, inventory, search=knowledge.search,
                                                  prometheus=settings.prometheus, lang=normalise(settings.lang),
                                                  logs=logs, traces=settings.traces, extra_evidence=[
                                                      *rhythm_evidence(settings, inventory),
                                                      ChainEvidence(inventory, normalise(settings.lang))]))
    start_rhythm(settings, store, clock, pipeline,
                 reports=ReportScheduler(settings, store, clock).tick if settings.reports.schedules else None)
    checks = CheckRunner(registry, inventory, store, clock, on_alerts=pipeline.wake,
                         concurrency=settings.inspection.concurrency, per_target=settings.inspection.per_target)
    scheduler = Scheduler(checks, settings.inspection, clock)
    audit = AuditLog.configured(store, settings.data_dir, settings.audit)
    executor = Executor(registry, inventory, store, audit, clock, settings.remediation, settings.data_dir, checks)
    jobs = jobs_for(settings, executor, scheduler)
    pipeline.separate_ingestion = bool(settings.pipeline_process)  # serve turns it on (pipeline/ingester.py)
    if jobs.distributed:  # rounds are handed out to workers as tickets; workers diagnose and deliver
        scheduler.dispatch = jobs
        pipeline.offload = True
    app = App(settings=settings, store=store, registry=registry, inventory=inventory, pipeline=pipeline,
              clock=clock, checks=checks, audit=audit, executor=executor, knowledge=knowledge, channels=channels,
              logs=logs, scheduler=scheduler, jobs=jobs, ssh=ssh)
    if settings.llm is not None:  # the pipeline asks the model about each new incident after its batch
        pipeline.investigate = functools.partial(_investigate_new, app)
    return app





async def _investigate_new(app: App) -> int:
    """The pipeline's investigation hook; the agent is imported only when a model is configured."""
    from steadyops.agent.incidents import investigate_new

    return await investigate_new(app)
