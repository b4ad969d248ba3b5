"""One exception tree: every exception class steadyops defines sits under SteadyOpsError.

Callers catch by meaning (``Unanswered``, ``Refused``, ``ActionFailed`` …), never by which module
raised; a class outside the tree would slip past every such handler. The few exceptions that must
subclass something else say why below.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import steadyops
from steadyops.core.errors import SteadyOpsError

#: classes that cannot join the tree, with the reason
OUTSIDE = {
    # pydantic turns only ValueError / AssertionError raised in a validator into a validation error
    "steadyops.config.errors.LocalizedValueError",
    # private signal inside the LLM client's retry loop; never leaves the function that raises it
    "steadyops.agent.llm._RetryableStatus",
    # fsops is shipped to the target host and run there by a bare python3: standard library only,
    # so it cannot import the tree; the shell turns a Refusal into a refused step
    "steadyops.execution.fsops.Refusal",
}
#: modules that need an optional driver or the test kit's own dependencies to import
SKIP_PREFIXES = ("steadyops.testing.pytest_plugin",)


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(steadyops.__path__, "steadyops."):
        if info.name.startswith(SKIP_PREFIXES) or ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def test_every_exception_class_is_in_the_tree() -> None:
    outside = []
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # an optional driver that is not installed here
            assert "steadyops[" in str(exc) or exc.name not in {None, name}, (name, exc)
            continue
        for attr, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == name
                    and not issubclass(obj, SteadyOpsError)):
                qual = f"{name}.{attr}"
                if qual not in OUTSIDE:
                    outside.append(qual)
    assert not outside, f"exceptions outside steadyops.core.errors' tree: {outside}"
