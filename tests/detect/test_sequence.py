"""The session sequence model: trained on normal sessions only, it accepts them and flags departures."""

from __future__ import annotations

import json

import pytest

from steadyops.detect.logs.sequence import SequenceConfig, SequenceModel

NORMAL = [
    ["open", "read", "read", "close"],
    ["open", "read", "close"],
    ["open", "write", "flush", "close"],
    ["open", "read", "write", "flush", "close"],
]


def trained(config: SequenceConfig | None = None) -> SequenceModel:
    return SequenceModel(config).fit(NORMAL)


def test_accepts_every_training_session() -> None:
    model = trained()
    assert model.predict(NORMAL) == [False] * len(NORMAL)
    verdict = model.score(NORMAL[0])
    assert verdict.score == 0.0 and verdict.reasons == [] and verdict.first_surprise is None


def test_flags_an_unseen_transition_of_known_events() -> None:
    model = trained()
    verdict = model.score(["open", "flush", "read", "close"])  # every event is known, the order is not
    assert verdict.anomalous
    assert not verdict.unseen_events
    assert verdict.first_surprise == 1
    assert any("transitions" in r for r in verdict.reasons)


def test_flags_an_unseen_event_and_an_early_end() -> None:
    model = trained()
    unseen = model.score(["open", "read", "checksum_error", "close"])
    assert unseen.anomalous and unseen.unseen_events == ["checksum_error"]
    truncated = model.score(["open", "write"])  # stops where no normal session stopped
    assert truncated.anomalous and truncated.first_surprise == truncated.positions - 1


def test_length_outside_the_training_range() -> None:
    model = trained(SequenceConfig(order=2))
    long_session = ["open", *["read"] * 10, "close"]  # every bigram is known
    assert model.score(long_session).reasons == ["length 12 outside the normal range 3..5"]
    assert not trained(SequenceConfig(order=2, check_length=False)).score(long_session).anomalous


def test_top_k_threshold_is_learned_from_training_only() -> None:
    model = trained(SequenceConfig(order=2, top_k=1))
    assert model.threshold > 0.0  # rare successors in training raise the bar rather than alarm
    assert model.predict(NORMAL) == [False] * len(NORMAL)
    assert model.next_events(["open"]) == ["read"]
    assert trained().next_events(["open"]) == ["read", "write"]  # after the start of a session
    assert trained().next_events(["close", "open"]) == []  # a context normal sessions never had


def test_state_round_trips_through_json() -> None:
    model = trained(SequenceConfig(order=3, top_k=2))
    clone = SequenceModel.from_dict(json.loads(json.dumps(model.to_dict())))
    probes = [*NORMAL, ["open", "flush", "read", "close"], ["open", "write"], ["open", "read", "read", "read", "close"]]
    assert [clone.score(p) for p in probes] == [model.score(p) for p in probes]
    with pytest.raises(ValueError):
        SequenceModel.from_dict({"version": 99})


def test_misuse_is_reported() -> None:
    with pytest.raises(RuntimeError):
        SequenceModel().score(["open"])
    with pytest.raises(ValueError):
        SequenceModel().fit([])
    with pytest.raises(ValueError):
        SequenceConfig(order=1)
    with pytest.raises(ValueError):
        SequenceConfig(top_k=0)
    assert trained().predict([[1, 2]]) == [True]  # ids of any hashable type are compared as text
