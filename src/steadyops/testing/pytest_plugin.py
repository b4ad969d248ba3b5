"""Opt-in pytest fixtures for plugin authors: ``pytest -p steadyops.testing.pytest_plugin``.

Not registered as a ``pytest11`` entry point on purpose: installing steadyops must not load
fixtures into every pytest session on the machine. Our own suite gets its fixtures from
``tests/conftest.py``.
"""

from __future__ import annotations

import pytest

from steadyops.core.clock import FakeClock


@pytest.fixture
def steadyops_clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()
