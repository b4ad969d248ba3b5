"""What a plugin remembers between runs belongs to the registry that loaded it, never to the process.

A check, collector or action is instantiated afresh for every run, so whatever it must remember —
a counter's previous sample (a rate "since the last check"), one read shared by the checks of a
sweep, what a server said last before it stopped answering — lives on one object the plugin's
``register`` makes for that registry and binds to its classes with :func:`remembering`:

.. code-block:: python

    class RedisCheck(Remembers[CounterMemory], Check):
        memory_type = CounterMemory             # what a class used outside a registry starts with

    def register(registry):
        counters = CounterMemory()              # this registry's, shared by its checks
        for check in CHECKS:
            registry.add_check(remembering(check, counters))

The instance reads ``self.memory``. Two Apps in one process (tests, a worker beside ``serve``) load
two registries, so a counter sampled by one is never "the last check" of the other. A class built
by hand (a unit test, a one-shot tool) gets the memory passed to it, else a fresh one: no trend,
no shared read, the first run's answer. A module-level dict or list that outlives a run is a
defect; ``tests/test_no_module_state.py`` finds one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

__all__ = ["Remembers", "remembering"]

M = TypeVar("M")
C = TypeVar("C", bound=type)


class Remembers(Generic[M]):
    """A plugin class that remembers between runs; its memory is its registry's (see the module)."""

    #: the memory a class used outside a registry starts with (each instance its own)
    memory_type: ClassVar[type[Any]]
    #: the registry's memory, set on the class :func:`remembering` makes; None on the class as written
    registry_memory: ClassVar[Any] = None

    def __init__(self, memory: M | None = None) -> None:
        if memory is None:
            memory = self.registry_memory if self.registry_memory is not None else self.memory_type()
        self.memory: M = memory


def remembering(cls: C, memory: object) -> C:
    """``cls`` reading ``memory`` (same name, docs and module), for ``registry.add_*``; a class that
    remembers nothing comes back as it is, so a plugin may pass every class it registers."""
    if not issubclass(cls, Remembers):
        return cls
    if not isinstance(memory, cls.memory_type):
        raise TypeError(f"{cls.__qualname__} remembers a {cls.memory_type.__name__}, not a {type(memory).__name__}")
    metaclass: type = type(cls)  # ABCMeta for a check, collector or action
    bound = metaclass(cls.__name__, (cls,), {"registry_memory": memory, "__doc__": cls.__doc__,
                                             "__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return bound  # type: ignore[no-any-return]
