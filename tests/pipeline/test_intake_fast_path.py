"""The intake's fast path (orjson, no pydantic per alert) accepts exactly what the validated path
accepts, builds the same alerts, and leaves every rejection (and its wording) to the validated path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from steadyops.config.settings import IntakeConfig
from steadyops.core.errors import ValidationFailed
from steadyops.pipeline import intake
from steadyops.pipeline.intake import _fast_alertmanager, parse_alertmanager

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LIMITS = IntakeConfig()


def hook(*alerts: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"version": "4", "status": "firing", "receiver": "x", "groupKey": "{}", "truncatedAlerts": 0,
                       "alerts": list(alerts), **extra}).encode()


def alert(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"status": "firing",
                            "labels": {"alertname": "DiskFull", "instance": "db-1", "region": "华东"},
                            "annotations": {"summary": "磁盘满了"}, "startsAt": "2025-12-31T23:59:00Z",
                            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p", "fingerprint": "x"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()
NESTED: Any = ["x"]
for _ in range(40):
    NESTED = [NESTED]


def slow(raw: bytes) -> Any:
    """The validated path alone, as it was before the fast path."""
    saved = intake._fast_alertmanager
    intake._fast_alertmanager = lambda *_a: None  # type: ignore[assignment]
    try:
        return parse_alertmanager(raw, LIMITS, NOW)
    except ValidationFailed as exc:
        return f"400 {exc}"
    finally:
        intake._fast_alertmanager = saved  # type: ignore[assignment]


ACCEPTED = [
    hook(alert()),
    hook(alert(), alert(labels={"alertname": "B"}, status="resolved", endsAt="2025-12-31T23:59:30+00:00")),
    hook(alert(startsAt="2025-12-31T23:59:00.123456Z", endsAt=DROP, annotations=DROP, generatorURL=DROP)),
    hook(alert(startsAt="2026-01-01T08:00:00+08:00", endsAt=None, extra={"deep": [[1]]}), commonLabels={"a": "b"}),
    hook(alert(), truncatedAlerts=3),
]

REJECTED_OR_ODD = [
    hook(alert(startsAt="2025-12-31T23:59:00")),  # no offset: read as UTC by pydantic
    hook(alert(startsAt="2025-12-31T23:59:00.123456789Z")),  # nanoseconds (Go's RFC3339Nano): pydantic decides
    hook(alert(status="pending")),
    hook(alert(labels={})),
    hook(alert(labels={"bad-name": "x"})),
    hook(alert(labels={"alertname": 1})),
    hook(alert(startsAt="2020-01-01T00:00:00Z")),  # too old
    hook(alert(endsAt="2025-12-31T23:00:00Z")),  # before startsAt
    hook(alert(startsAt="2025-12-31T24:00:00Z")),
    hook(alert(startsAt=1767225540)),
    hook(alert(labels={"alertname": "x\x00y"})),
    hook(alert(annotations={"summary": "s" * 40_000})),
    hook(alert(status=["firing"])),
    hook(alert(startsAt=DROP)),
    hook(alert(), truncatedAlerts="3"),
    hook(alert(), version=4),
    hook(alert(), extra=NESTED),  # deeper than max_json_depth, in a key nobody reads
    b'{"version": "4", "alerts": [' + json.dumps(alert()).encode() + b"], \"n\": NaN}",
    b'{"version": "4", "alerts": []}',
    b"[]",
    b"",
]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_fast_path_builds_what_the_validated_path_builds(raw: bytes) -> None:
    fast = _fast_alertmanager(raw, LIMITS, NOW)
    assert fast is not None, "a well-formed webhook takes the fast path"
    assert [a.model_dump() for a in fast] == [a.model_dump() for a in slow(raw)]


@pytest.mark.parametrize("raw", REJECTED_OR_ODD)
def test_anything_else_gets_the_validated_paths_answer(raw: bytes) -> None:
    fast = _fast_alertmanager(raw, LIMITS, NOW)
    expected = slow(raw)
    if fast is None:  # left to the validated path: the public parser answers exactly as it did
        try:
            got: Any = parse_alertmanager(raw, LIMITS, NOW)
        except ValidationFailed as exc:
            got = f"400 {exc}"
        assert (got if isinstance(got, str) else [a.model_dump() for a in got]) == \
            (expected if isinstance(expected, str) else [a.model_dump() for a in expected])
    else:  # taken fast only when the validated path accepts it too, with the same alerts
        assert not isinstance(expected, str)
        assert [a.model_dump() for a in fast] == [a.model_dump() for a in expected]
