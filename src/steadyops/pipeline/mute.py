"""Mute: silences and inhibition rules, with Alertmanager's semantics.

Muted alerts are kept and shown, never dropped: muting only withholds incidents and
notifications. The same :class:`Muter` is asked again at flush time, because a silence created or
expired after an alert arrived must change what the next notification says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from steadyops.core.models import AlertStatus, InhibitRule, Silence, matches_all
from steadyops.pipeline.context import AlertBatch, Context
from steadyops.store import alerts as alerts_repo
from steadyops.store import silences as silences_repo
from steadyops.store.alert_states import AlertState


class Muter:
    """Answers "what mutes these labels now?" for one snapshot of silences and firing alerts."""

    def __init__(self, silences: Sequence[Silence], rules: Sequence[InhibitRule],
                 firing: Iterable[tuple[str, Mapping[str, str]]], now: datetime) -> None:
        self.silences = [s for s in silences if s.active(now)]
        self.rules = list(rules)
        self.now = now
        firing_list = list(firing)
        # per rule: the firing alerts that may act as its source
        self._sources: list[list[tuple[str, Mapping[str, str]]]] = [
            [(fp, lbl) for fp, lbl in firing_list if matches_all(r.source_matchers, lbl)] for r in self.rules
        ]

    @classmethod
    def load(cls, session: Session, rules: Sequence[InhibitRule], now: datetime,
             batch: Mapping[str, AlertState] | None = None) -> Muter:
        """Silences and firing alerts as stored, overlaid with ``batch`` (the pipeline's batch, not
        written yet): its new alerts may be inhibition sources for each other, and its resolved ones
        no longer are."""
        firing: list[tuple[str, Mapping[str, str]]] = []
        if rules:
            overlay = batch or {}
            firing = [(fp, labels) for fp, labels, ends_at in alerts_repo.firing_labels(session)
                      if fp not in overlay and (ends_at is None or ends_at > now)]
            firing += [(s.fingerprint, s.labels) for s in overlay.values()
                       if s.status == AlertStatus.FIRING.value and (s.ends_at is None or s.ends_at > now)]
        return cls(silences_repo.list_all(session, active_at=now), rules, firing, now)

    def muted_by(self, fp: str, labels: Mapping[str, str]) -> list[str]:
        reasons = [f"silence:{s.id}" for s in self.silences if matches_all(s.matchers, labels)]
        for i, rule in enumerate(self.rules):
            if not matches_all(rule.target_matchers, labels):
                continue
            # An alert matching both sides may not be inhibited by others that also match both
            # (Alertmanager's "two-sided match" exclusion), and never by itself.
            two_sided = matches_all(rule.source_matchers, labels)
            for src_fp, src in self._sources[i]:
                if src_fp == fp:
                    continue
                if two_sided and matches_all(rule.target_matchers, src):
                    continue
                if all(src.get(name, "") == labels.get(name, "") for name in rule.equal):
                    reasons.append(f"inhibited:{src_fp}")
                    break
        return reasons


class Mute:
    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = list(rules)

    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        muter = Muter.load(ctx.session, self.rules, ctx.now, ctx.alert_rows)
        for alert in batch.alerts:
            reasons = muter.muted_by(alert.fingerprint, alert.labels) if alert.status.value == "firing" else []
            row = ctx.alert_rows.get(alert.fingerprint)
            if row is not None and row.muted_by != reasons:
                row.muted_by = reasons
            if reasons:
                batch.muted[alert.fingerprint] = reasons
        return batch
