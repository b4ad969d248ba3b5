"""No module-level mutable state in ``src/steadyops``: what outlives a run belongs to an object the
composition root builds (per App, per registry: :mod:`steadyops.contracts.memory`), so two Apps in
one process — tests, a worker beside ``serve`` — never share a counter, a cache or a setting.

The scan reads every module's source and finds, at module level:

* a container (``{}``, ``[]``, ``set()``, ``dict()``, ``deque()``, ``WeakKeyDictionary()`` …) that
  the module writes into (``X[k] = v``, ``del X[k]``, ``X.append(…)``, ``X.setdefault(…)`` …);
* an instance of a steadyops class, unless the class is immutable (a frozen dataclass or pydantic
  model): ``COUNTERS = CounterMemory()`` is state however it is written to;
* a name rebound from a function (``global``).

A constant table that nothing writes into is not state, and neither is a memo of a pure function
(``functools.cache`` / ``lru_cache``: the same argument, the same answer). What remains is listed in
:data:`ALLOWED` with its reason; a new entry there needs one as good, and an entry the scan no
longer finds must go.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

from pydantic import BaseModel

from steadyops.contracts.memory import Remembers
from steadyops.plugins import load_plugins

SRC = Path(__file__).resolve().parents[1] / "src" / "steadyops"

CONTAINER_CALLS = frozenset({"dict", "list", "set", "defaultdict", "deque", "OrderedDict", "Counter",
                             "WeakKeyDictionary", "WeakValueDictionary", "WeakSet", "bytearray"})
MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "pop", "popitem", "setdefault", "clear",
                      "remove", "discard", "appendleft", "extendleft", "sort", "reverse", "move_to_end"})

#: (module, name) → why it may stay
ALLOWED: dict[tuple[str, str], str] = {
    ("steadyops.auth.deps", "PUBLIC"):
        "a FastAPI dependency object for public routes; its one attribute (role=None) is never changed",
    ("steadyops.cli.common", "state"):
        "the CLI's global options (--lang, --config, --server, --token) for the one command this process runs",
    ("steadyops.detect.logs.masking", "_DEFAULT"):
        "a Masker with the built-in rules and no per-call state: what mask() uses when given none",
    ("steadyops.detect.logs.masking", "_jieba_cut"): "jieba's cut function, imported lazily once (optional extra)",
    ("steadyops.detect.logs.masking", "_jieba_tried"): "whether the lazy jieba import was tried (see _jieba_cut)",
    ("steadyops.knowledge.tokenize", "_jieba"): "the jieba module, imported lazily once (optional extra)",
    ("steadyops.knowledge.base", "_BUILTIN_CACHE"):
        "the runbooks that ship inside steadyops, parsed once: a memo of files in the package, the same for every App",
    ("steadyops.contracts.delivery", "_FILTER"):
        "the secret-masking filter on httpx's logger, which is process-wide itself: it masks every App's notifier "
        "secrets in httpx's log lines (masking another App's too costs nothing)",
    ("steadyops.jobs.distributed", "_RUNTIME"):
        "the worker process's one App: Celery calls tasks as module functions, and `steadyops worker` sets it once",
}


def _callee(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _is_container(value: ast.expr) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    return isinstance(value, ast.Call) and _callee(value) in CONTAINER_CALLS


def scan(source: str) -> list[tuple[str, int, str]]:
    """(name, line, why) for each piece of module-level state in ``source`` (see the module docstring);
    an instance's class is judged immutable or not by the caller, which can import it."""
    tree = ast.parse(source)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    own = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
           and (n.module or "").startswith("steadyops") for a in n.names}
    bound: dict[str, tuple[int, ast.expr]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for t in targets:
            if isinstance(t, ast.Name) and t.id != "__all__":
                bound[t.id] = (node.lineno, value)
    written: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store | ast.Del) and isinstance(n.value, ast.Name):
            written.add(n.value.id)
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in MUTATORS
              and isinstance(n.func.value, ast.Name)):
            written.add(n.func.value.id)
    found: list[tuple[str, int, str]] = []
    for name, (line, value) in bound.items():
        if _is_container(value) and name in written:
            found.append((name, line, "a module-level container the module writes into"))
        elif (isinstance(value, ast.Call) and (c := _callee(value)) and c.lstrip("_")[:1].isupper()
              and (c in classes or c in own)):
            found.append((name, line, f"instance of {c}"))
    found.extend((g, n.lineno, "rebound with `global`") for n in ast.walk(tree) if isinstance(n, ast.Global)
                 for g in n.names)
    return found


def _immutable(module: str, name: str) -> bool:
    value = getattr(importlib.import_module(module), name)
    if dataclasses.is_dataclass(value) and type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return True
    return isinstance(value, BaseModel) and bool(value.model_config.get("frozen"))


def module_state() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
        for name, line, why in scan(path.read_text(encoding="utf-8")):
            if why.startswith("instance of") and (module, name) not in ALLOWED and _immutable(module, name):
                continue
            out[(module, name)] = f"{path.relative_to(SRC.parent)}:{line}: {why}"
    return out


def test_no_module_level_mutable_state_beyond_the_listed_memos() -> None:
    found = module_state()
    new = {key: where for key, where in found.items() if key not in ALLOWED}
    assert not new, ("module-level state (give it to an object the composition root or a plugin's register "
                     "builds: steadyops.contracts.memory), or list it in ALLOWED with a reason:\n"
                     + "\n".join(f"  {where}" for where in new.values()))
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"ALLOWED names state the scan no longer finds; remove them: {stale}"


def test_the_scan_finds_each_kind_of_state() -> None:
    planted = '''
from steadyops.sources.counters import CounterMemory
from steadyops.execution.access import Reads

TABLE = {"a": 1}                       # a constant: read, never written
_cache: dict[str, int] = {}
_seen = set()
COUNTERS = CounterMemory()
class _Seen:
    pass
SEEN = _Seen()
READS = Reads()
_settings = None

def remember(key: str) -> None:
    _cache[key] = 1
    _seen.add(key)

def configure(value: object) -> None:
    global _settings
    _settings = value
'''
    found = {name: why for name, _line, why in scan(planted)}
    assert set(found) == {"_cache", "_seen", "COUNTERS", "SEEN", "READS", "_settings"}
    assert found["_settings"] == "rebound with `global`" and found["COUNTERS"] == "instance of CounterMemory"
    assert _immutable("steadyops.integrations.host.base", "READS")  # a frozen dataclass passes in the real scan


def test_each_registry_gives_its_plugins_a_memory_of_their_own() -> None:
    """What remembers is bound to its registry's memory; one plugin's classes share one, two registries none."""
    first, second = load_plugins(entry_points_too=False), load_plugins(entry_points_too=False)

    def memories(registry: object) -> dict[str, dict[int, object]]:
        out: dict[str, dict[int, object]] = {}
        for catalog in (registry.checks, registry.collectors, registry.actions):  # type: ignore[attr-defined]
            for name in catalog.names():
                cls = catalog.get(name)
                if isinstance(cls, type) and issubclass(cls, Remembers):
                    assert cls.registry_memory is not None, f"{name} is registered without its registry's memory"
                    out.setdefault(catalog.origin(name), {})[id(cls.registry_memory)] = cls.registry_memory
        return out

    one, two = memories(first), memories(second)
    remembering_plugins = {f"steadyops.integrations.{name}" for name in (
        "host", "gpu", "inference", "http_probe", "zookeeper", "nginx", "redis", "mysql")}
    assert remembering_plugins - set(first.missing) <= set(one)  # (a plugin whose driver is missing is not loaded)
    for plugin, objects in one.items():
        assert len(objects) == 1, f"{plugin}'s classes remember in {len(objects)} places, not one"
        assert not set(objects) & set(two[plugin]), f"{plugin} shares its memory between two registries"
