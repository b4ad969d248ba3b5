"""The systems we watch and how they depend on each other (the topology graph).

Credentials are referenced (``env:NAME`` or ``file:/path``), never written inline, so an inventory
file can be committed and reviewed. With no inventory the local host is the one target, which is
what ``make run`` on a laptop should watch.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from steadyops.core.errors import ConfigError


class Target(BaseModel):
    name: str
    kind: str = "host"
    address: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    credentials: str | None = Field(default=None, description="env:VAR or file:/path; never a secret itself")
    depends_on: list[str] = Field(default_factory=list)

    @field_validator("credentials")
    @classmethod
    def _reference_only(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("env:", "file:")):
            raise ValueError("credentials must be a reference (env:NAME or file:/path), not an inline secret")
        return v


class InventoryFile(BaseModel):
    targets: list[Target] = Field(default_factory=list)


def _split(address: str) -> tuple[str, str, bool]:
    """``(host, port text or "", well formed)``; never raises.

    The one reading of an address behind both :func:`split_address` (strict, for connecting) and
    :func:`_host_part` (lenient, for matching alert labels to targets), so the two cannot disagree.
    """
    value = address.strip()
    if value.startswith("["):  # [v6] or [v6]:port
        host, closed, rest = value[1:].partition("]")
        if not closed:
            return value, "", False
        if rest.startswith(":"):
            return host.strip(), rest[1:].strip(), True
        return host.strip(), "", not rest
    if value.count(":") == 1:  # host:port (more colons: a bare IPv6 address, no port)
        host, port = value.split(":")
        return host.strip(), port.strip(), True
    return value, "", True


def split_address(address: str, default_port: int, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``(host, port)`` to connect to, from a target address.

    Accepts ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` and a bare IPv6 address (``::1``,
    ``fe80::1%eth0``: more than one colon and no brackets means no port). The host comes back without
    brackets. An empty host (``""``, ``":6379"``, ``"[]:6379"``) is ``default_host`` (the local
    machine, as with no inventory); a missing or empty port (``"db"``, ``"db:"``) is ``default_port``.

    Raises :class:`ValueError` naming the address when the port is not a number from 1 to 65535 or
    the brackets are malformed (``"[::1"``, ``"[::1]x"``): a typo in an address must not quietly
    send the check to another port.
    """
    host, port, well_formed = _split(address)
    if not well_formed:
        raise ValueError(f"address {address!r}: expected [IPv6] or [IPv6]:port")
    if not port:
        return host or default_host, default_port
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ValueError(f"address {address!r}: port {port!r} is not a number from 1 to 65535")
    return host or default_host, int(port)


def _host_part(value: str) -> str:
    """The host of a label value or target address, for matching: lenient, ``""`` stays ``""``."""
    return _split(value)[0]


class Inventory:
    def __init__(self, targets: Iterable[Target]) -> None:
        self.targets: dict[str, Target] = {}
        for t in targets:
            if t.name in self.targets:
                raise ConfigError(f"inventory: target {t.name!r} is defined twice")
            self.targets[t.name] = t
        self._index: dict[str, str] = {}
        for t in self.targets.values():
            for key in {t.name, t.address, _host_part(t.address)} - {""}:
                self._index.setdefault(key, t.name)
        self._adj: dict[str, set[str]] = {name: set() for name in self.targets}
        for t in self.targets.values():
            for dep in t.depends_on:
                if dep not in self.targets:
                    raise ConfigError(f"inventory: target {t.name!r} depends on unknown target {dep!r}")
                self._adj[t.name].add(dep)
                self._adj[dep].add(t.name)

    def add(self, target: Target) -> None:
        """Add one target after loading: an ad-hoc address a user asked to inspect, the demo target."""
        if target.name in self.targets:
            raise ConfigError(f"inventory: target {target.name!r} is defined twice")
        self.targets[target.name] = target
        for key in {target.name, target.address, _host_part(target.address)} - {""}:
            self._index.setdefault(key, target.name)
        self._adj[target.name] = set()

    @classmethod
    def local(cls) -> Inventory:
        return cls([Target(name=socket.gethostname() or "localhost", kind="host", address="127.0.0.1")])

    @classmethod
    def load(cls, path: Path | None) -> Inventory:
        if path is None:
            return cls.local()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls(InventoryFile.model_validate(data).targets)
        except OSError as exc:
            raise ConfigError(f"inventory {path}: {exc}") from exc
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"inventory {path}: {exc}") from exc

    def resolve(self, value: str) -> str | None:
        """Map a label value (name, ``host:port`` or bare host) to a target name."""
        if not value:
            return None
        return self._index.get(value) or self._index.get(_host_part(value))

    def distance(self, a: str, b: str, max_hops: int) -> int | None:
        """Hops between two targets in the undirected dependency graph, or None beyond ``max_hops``."""
        if a == b:
            return 0
        if a not in self._adj or b not in self._adj:
            return None
        seen = {a}
        queue: deque[tuple[str, int]] = deque([(a, 0)])
        while queue:
            node, d = queue.popleft()
            if d >= max_hops:
                continue
            for nxt in self._adj[node]:
                if nxt == b:
                    return d + 1
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, d + 1))
        return None

    def within(self, name: str, max_hops: int) -> dict[str, int]:
        """Every target within ``max_hops`` of ``name`` in the undirected dependency graph, with its
        distance; ``name`` itself at 0 (inventory target or not). The same relation as
        :meth:`distance`, walked once: convergence asks "which incident has a target near this one",
        and one walk from the alert's target beats a walk per target of every open incident."""
        found = {name: 0}
        if name not in self._adj:
            return found
        queue: deque[tuple[str, int]] = deque([(name, 0)])
        while queue:
            node, d = queue.popleft()
            if d >= max_hops:
                continue
            for nxt in self._adj[node]:
                if nxt not in found:
                    found[nxt] = d + 1
                    queue.append((nxt, d + 1))
        return found

    def around(self, names: Iterable[str], max_hops: int) -> set[str]:
        """Every name given, and every target within ``max_hops`` of one of them: the union of
        :meth:`within` over ``names``, walked once from all of them together (a storm's incident asks
        this for thousands of targets, whose neighbourhoods overlap through the few they share)."""
        found = set(names)
        frontier = [name for name in found if name in self._adj]
        for _hop in range(max_hops):
            step: list[str] = []
            for node in frontier:
                for nxt in self._adj[node]:
                    if nxt not in found:
                        found.add(nxt)
                        step.append(nxt)
            frontier = step
            if not frontier:
                break
        return found

    def dependencies(self, name: str) -> list[str]:
        return list(self.targets[name].depends_on) if name in self.targets else []
