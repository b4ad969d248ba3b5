"""Run states are one enum whose values are the strings already stored in action_runs.status."""

from __future__ import annotations

from steadyops.core.models import APPLICABLE_RUN_STATES, SETTLED_RUN_STATES, RunState


def test_values_are_the_stored_strings() -> None:
    # rows written before the enum existed, and API clients, read these exact values
    assert [s.value for s in RunState] == ["pending_approval", "approved", "rejected", "running", "succeeded",
                                           "failed", "rolled_back"]


def test_every_state_is_applicable_running_or_settled() -> None:
    assert APPLICABLE_RUN_STATES.isdisjoint(SETTLED_RUN_STATES)
    assert APPLICABLE_RUN_STATES | SETTLED_RUN_STATES | {RunState.RUNNING} == set(RunState)
    assert [s for s in RunState if s.settled] == sorted(SETTLED_RUN_STATES, key=list(RunState).index)
    assert "succeeded" in SETTLED_RUN_STATES  # a row's plain string matches the enum
