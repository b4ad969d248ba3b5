"""The routing tree: which receiver, grouping and timers apply to an alert.

Semantics follow Alertmanager: depth-first, the first matching child wins unless it sets
``continue``; a node that matches but has no matching child handles the alert itself; unset
fields inherit from the parent. ``group_by: ['...']`` groups by every label.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from steadyops.config.settings import RouteConfig
from steadyops.core.models import Matcher, matches_all

#: group keys remembered per route; a storm of more distinct groups than this just recomputes
_KEYS_KEPT = 50_000


@dataclass
class Route:
    id: str
    receiver: str
    matchers: list[Matcher]
    group_by: list[str]
    group_wait: float
    group_interval: float
    repeat_interval: float
    continue_: bool
    children: list[Route] = field(default_factory=list)
    #: group-label values -> group key (see group_key)
    _keys: dict[tuple[str | None, ...], str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, cfg: RouteConfig, parent: Route | None = None, path: str = "0") -> Route:
        def pick(own: object, inherited: object) -> object:
            return own if own is not None else inherited

        node = cls(
            id=path,
            receiver=str(pick(cfg.receiver, parent.receiver if parent else "default")),
            matchers=list(cfg.matchers),
            group_by=list(cfg.group_by) if cfg.group_by is not None else (list(parent.group_by) if parent else []),
            group_wait=float(pick(cfg.group_wait, parent.group_wait if parent else 30.0)),  # type: ignore[arg-type]
            group_interval=float(pick(cfg.group_interval, parent.group_interval if parent else 300.0)),  # type: ignore[arg-type]
            repeat_interval=float(pick(cfg.repeat_interval, parent.repeat_interval if parent else 14400.0)),  # type: ignore[arg-type]
            continue_=cfg.continue_,
        )
        node.children = [cls.build(c, node, f"{path}.{i}") for i, c in enumerate(cfg.routes)]
        return node

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        if not matches_all(self.matchers, labels):
            return []
        hits: list[Route] = []
        for child in self.children:
            found = child.match(labels)
            if found:
                hits.extend(found)
                if not child.continue_:
                    break
        return hits or [self]

    def find(self, route_id: str) -> Route | None:
        if self.id == route_id:
            return self
        for child in self.children:
            hit = child.find(route_id)
            if hit is not None:
                return hit
        return None

    def shard_labels(self) -> frozenset[str] | None:
        """The labels that decide an alert's journal shard (``store.alerts.shard_of``): those every node
        of this tree groups by, or None when every node groups by ``...`` (all labels).

        Why every node: any node may handle an alert (one whose children do not match it), and with
        ``continue`` one alert joins a group on each of several nodes. Two alerts in one group agree on
        that node's ``group_by`` labels, so they agree on any subset of them; the labels common to all
        nodes are the largest set that is such a subset for every group an alert can join. An alert's
        fingerprint is a hash of all its labels, so one fingerprint is always one shard too. When the
        nodes share no label (a node grouping by ``[]``: everything it handles is one group), every alert
        is in shard 0 and ingestion is one partition, which is what such a tree needs."""
        common: frozenset[str] | None = None if "..." in self.group_by else frozenset(self.group_by)
        for child in self.children:
            below = child.shard_labels()
            if below is not None:
                common = below if common is None else common & below
        return common

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if "..." in self.group_by:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def group_key(self, labels: Mapping[str, str]) -> str:
        """Stable and bounded in length, readable at the front for operators.

        A storm is many alerts in few groups, and hashing the key is most of grouping's cost, so
        keys are remembered by the grouping labels' values (not for ``...``: every label counts)."""
        if "..." in self.group_by:
            return self._group_key(labels)
        values = tuple(labels.get(name) for name in self.group_by)
        key = self._keys.get(values)
        if key is None:
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            key = self._keys[values] = self._group_key(labels)
        return key

    def _group_key(self, labels: Mapping[str, str]) -> str:
        grouped = self.group_labels(labels)
        body = json.dumps(grouped, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        readable = ",".join(f"{k}={v}" for k, v in sorted(grouped.items()))[:200]
        return f"{self.id}:{{{readable}}}:{digest}"
