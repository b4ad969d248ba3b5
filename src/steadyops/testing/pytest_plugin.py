"""pytest plugin shipped with steadyops: fixtures for plugin authors and our own suite."""

from __future__ import annotations

import pytest

from steadyops.core.clock import FakeClock


@pytest.fixture
def steadyops_clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()
