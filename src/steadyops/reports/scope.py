"""What an inspection covers: kinds, targets and checks, validated and normalised before anything runs.

Normalising matters beyond tidiness: "the previous run" is the previous run with an *equal* scope,
so ``巡检 redis``, ``inspect --kind redis`` and ``POST /api/v1/inspections {"kinds": ["redis"]}``
must all store the same scope to be compared with each other. And an empty selection is an error
with a reason (unknown target, no target of that kind, plugin not loaded), never a silent "all OK".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from steadyops.core.errors import ValidationFailed
from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Inventory
from steadyops.runner.checks import CheckRunner, Job

ALL = {"all", "*", "全部", "所有"}


class ScopeError(ValidationFailed):
    """A scope that selects nothing or names something unknown; carries its message key to localise it."""

    def __init__(self, key: str, suggestions: Sequence[str] = (), **kwargs: object) -> None:
        self.key = key
        self.kwargs = kwargs
        self.suggestions = list(suggestions)
        super().__init__(self.localised("en"))

    def localised(self, lang: Lang) -> str:
        text = t(self.key, lang, **self.kwargs)
        if self.suggestions:
            text += t("scope.hint", lang, names=", ".join(self.suggestions))
        return text


@dataclass(frozen=True)
class Scope:
    kinds: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The stored form; empty lists mean "every", so an unfiltered sweep has a stable scope too."""
        return {"kinds": list(self.kinds), "targets": list(self.targets), "checks": list(self.checks)}


def _host(address: str) -> str:
    address = address.strip()
    if address.startswith("["):
        return address[1:address.find("]")] if "]" in address else address
    return address.split(":", 1)[0] if address.count(":") == 1 else address


def match_targets(inventory: Inventory, value: str) -> list[str]:
    """Every target a user may mean by ``value``: a name, an exact address, or any target on that host.

    A bare host matches all targets on the machine (its ZooKeeper *and* its host entry), unlike
    ``Inventory.resolve`` which picks one; the kind filter then chooses among them.
    """
    if value in inventory.targets:
        return [value]
    host = _host(value)
    exact = [tg.name for tg in inventory.targets.values() if tg.address == value]
    if exact and host != value:  # host:port names one service
        return exact
    return [tg.name for tg in inventory.targets.values() if tg.address and _host(tg.address) == host]


def _close(value: str, candidates: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(value, sorted(set(candidates)), n=3, cutoff=0.5)


def resolve_scope(runner: CheckRunner, *, kinds: Sequence[str] = (), targets: Sequence[str] = (),
                  checks: Sequence[str] = ()) -> tuple[Scope, list[Job]]:
    """Validate the selection against the inventory and registry; return it normalised with its jobs."""
    inventory = runner.inventory
    wanted_kinds = sorted({runner.registry.kind_of(k) for k in kinds if k.strip()})  # zk → zookeeper
    for name in checks:
        if name not in runner.registry.checks:
            raise ScopeError("scope.unknown_check", _close(name, runner.registry.checks.names()), check=name)
    names: set[str] = set()
    for value in (v.strip() for v in targets):
        if not value or value.lower() in ALL:
            continue
        found = match_targets(inventory, value)
        if not found:
            candidates = [*inventory.targets, *(tg.address for tg in inventory.targets.values() if tg.address)]
            raise ScopeError("scope.unknown_target", _close(value, candidates), target=value)
        names.update(n for n in found if not wanted_kinds or inventory.targets[n].kind in wanted_kinds)
        if not names:  # "inspect zookeeper 10.0.0.5" where that machine runs no ZooKeeper
            raise ScopeError("scope.no_targets", kinds=", ".join(wanted_kinds), targets=value,
                             present=", ".join(sorted({inventory.targets[n].kind for n in found})))
    scope = Scope(kinds=tuple(wanted_kinds), targets=tuple(sorted(names)), checks=tuple(sorted(set(checks))))
    jobs = runner.jobs(kinds=scope.kinds or None, targets=scope.targets or None, checks=scope.checks or None)
    if not jobs:
        raise _why_empty(runner, scope)
    return scope, jobs


def _why_empty(runner: CheckRunner, scope: Scope) -> ScopeError:
    inventory = runner.inventory
    present = sorted({tg.kind for tg in inventory.targets.values()})
    selected = [tg for tg in inventory.targets.values()
                if (not scope.targets or tg.name in scope.targets) and (not scope.kinds or tg.kind in scope.kinds)]
    if not selected:
        return ScopeError("scope.no_targets", kinds=", ".join(scope.kinds) or "*",
                          targets=", ".join(scope.targets) or "*", present=", ".join(present) or "-")
    kinds = sorted({tg.kind for tg in selected})
    if not any(runner.registry.checks_for(k) for k in kinds):
        return ScopeError("scope.no_checks", kinds=", ".join(kinds))
    return ScopeError("scope.empty")
