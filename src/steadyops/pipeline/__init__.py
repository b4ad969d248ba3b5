"""The alert pipeline, one module per stage, composed here.

    journal ─► dedup ─► mute ─► group ─► incident        (per batch, one transaction; ingester.py,
                                                          in its own process under ``serve``)
    group timers ─► flush (notification log + outbox)    (when due)
    outbox ─► notify (rate limits, retries)              (async delivery)
"""

from __future__ import annotations

from collections.abc import Mapping

from steadyops.config.settings import Settings
from steadyops.contracts.notifiers import Notifier
from steadyops.core.clock import Clock
from steadyops.core.i18n import normalise
from steadyops.core.inventory import Inventory
from steadyops.pipeline.diagnose import Diagnoser
from steadyops.pipeline.engine import Pipeline, TickResult
from steadyops.pipeline.flush import Flusher
from steadyops.pipeline.ingester import build_stages
from steadyops.pipeline.notify import Dispatcher
from steadyops.pipeline.route import Route
from steadyops.store import Store


def build_pipeline(settings: Settings, store: Store, clock: Clock, inventory: Inventory,
                   channels: Mapping[tuple[str, int], Notifier], diagnoser: Diagnoser | None = None) -> Pipeline:
    root = Route.build(settings.route)
    rules = [r.to_rule() for r in settings.inhibit_rules]
    stages = build_stages(settings, inventory)
    flusher = Flusher(root, rules, {r.name: r.channels for r in settings.receivers}, settings.convergence,
                      inventory, normalise(settings.lang), settings.public_url)
    dispatcher = Dispatcher(store, channels, clock, max_attempts=settings.notify_max_attempts,
                            backoff=settings.notify_backoff, backoff_max=settings.notify_backoff_max)
    return Pipeline(store, stages, flusher, dispatcher, clock, settings, inventory, diagnoser=diagnoser)


__all__ = ["Pipeline", "TickResult", "build_pipeline"]
