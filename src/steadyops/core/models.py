"""Domain types shared by every layer.

They are pydantic models so the same definition validates webhooks, serialises API answers and
documents the OpenAPI contract; the store keeps its own SQLAlchemy rows and converts at its edge.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fnv_c import fnv1a_64
from pydantic import BaseModel, ConfigDict, Field, field_validator

_SEPARATOR = b"\xff"


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' label-set fingerprint (FNV-1a 64 over sorted name/value pairs, each followed by 0xFF).

    Using the exact Prometheus algorithm means the fingerprint we compute equals the one
    Alertmanager puts in its webhook, so operators can correlate both systems by it. The hash runs
    in C (fnv-c): byte by byte in Python it was the largest single cost of accepting an alert
    (~9 us of ~25 us on the intake's fast path).
    """
    data = b"".join([part.encode("utf-8") + _SEPARATOR for name in sorted(labels) for part in (name, labels[name])])
    return f"{fnv1a_64(data):016x}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @classmethod
    def parse(cls, value: str | None) -> Severity:
        """Map the many spellings found in the wild (P1, error, page …) onto three levels."""
        v = (value or "").strip().lower()
        if v in {"critical", "crit", "fatal", "emergency", "page", "p0", "p1", "high", "disaster", "严重"}:
            return cls.CRITICAL
        if v in {"info", "informational", "notice", "low", "p4", "p5", "none", "提示"}:
            return cls.INFO
        return cls.WARNING

    @property
    def rank(self) -> int:
        return {"critical": 3, "warning": 2, "info": 1}[self.value]


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Alert(BaseModel):
    """One alert as steadyops understands it, whatever source it came from."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    status: AlertStatus = AlertStatus.FIRING
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""
    source: str = "api"
    fingerprint: str = ""

    @field_validator("labels")
    @classmethod
    def _labels_valid(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("an alert needs at least one label")
        for name in v:
            if not LABEL_NAME_RE.match(name):
                raise ValueError(f"label name {name!r} is not a valid Prometheus label name")
        return v

    def model_post_init(self, __context: Any) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.labels))

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> Severity:
        return Severity.parse(self.labels.get("severity"))

    @property
    def dedup_key(self) -> tuple[str, str, datetime]:
        """A re-delivery of the same key changes nothing (persist-first idempotency)."""
        return (self.fingerprint, self.status.value, self.starts_at)


class MatchOp(enum.StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


class Matcher(BaseModel):
    """A label matcher with Alertmanager's semantics: regexes are fully anchored."""

    model_config = ConfigDict(frozen=True)

    name: str
    op: MatchOp = MatchOp.EQ
    value: str

    @field_validator("name")
    @classmethod
    def _name_valid(cls, v: str) -> str:
        if not LABEL_NAME_RE.match(v):
            raise ValueError(f"matcher label name {v!r} is not a valid label name")
        return v

    def model_post_init(self, __context: Any) -> None:
        if self.op in (MatchOp.RE, MatchOp.NRE):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"matcher {self.name}{self.op.value}{self.value!r}: bad regex: {exc}") from exc

    def matches(self, labels: Mapping[str, str]) -> bool:
        # A missing label matches as the empty string, as in Alertmanager.
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NE:
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op is MatchOp.RE else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op.value}"{self.value}"'

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """Parse ``name=value``, ``name!="v"``, ``name=~"re.*"`` as amtool does."""
        m = re.fullmatch(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*', text)
        if not m:
            raise ValueError(f"cannot parse matcher {text!r}; expected name=value, name!=value, name=~re")
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return cls(name=m.group(1), op=MatchOp(m.group(2)), value=value)


def matches_all(matchers: list[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


class Silence(BaseModel):
    id: str = ""
    matchers: list[Matcher] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str = ""
    created_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.active(now) and matches_all(self.matchers, labels)


class InhibitRule(BaseModel):
    """Mute ``target`` alerts while a ``source`` alert fires with the same ``equal`` labels."""

    source_matchers: list[Matcher] = Field(min_length=1)
    target_matchers: list[Matcher] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Incident(BaseModel):
    id: int
    title: str
    status: IncidentStatus
    severity: Severity
    labels: dict[str, str] = Field(default_factory=dict)
    group_keys: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    #: how many targets the incident has (``targets`` may hold only the first of them: a list view)
    target_count: int = 0
    first_alert_at: datetime
    opened_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    alert_count: int = 0
    firing_count: int = 0
    alerts: list[Alert] = Field(default_factory=list)
    #: the last healthy observation of the failing check (the fault began after it); None for external alerts
    last_ok_at: datetime | None = None
    located_at: datetime | None = None
    remedied_at: datetime | None = None

    @property
    def onset_at(self) -> datetime:
        """When the fault began, at the earliest: the last healthy observation, else the first alert's startsAt."""
        return min(self.last_ok_at, self.first_alert_at) if self.last_ok_at else self.first_alert_at

    @property
    def mttd_seconds(self) -> float:
        """Time to detect: from the onset (see :attr:`onset_at`) to the incident opening."""
        return max(0.0, (self.opened_at - self.onset_at).total_seconds())

    @property
    def mttl_seconds(self) -> float | None:
        """Time to locate: onset → the diagnosis first named the root finding it still names."""
        if self.located_at is None:
            return None
        return max(0.0, (self.located_at - self.onset_at).total_seconds())

    @property
    def mtta_seconds(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return max(0.0, (self.acknowledged_at - self.opened_at).total_seconds())

    @property
    def mttr_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0.0, (self.resolved_at - self.onset_at).total_seconds())


class Notification(BaseModel):
    """What a notifier renders. Markdown body; each notifier adapts it to its vendor."""

    title: str
    text: str
    severity: Severity = Severity.WARNING
    status: AlertStatus = AlertStatus.FIRING
    incident_id: int | None = None
    group_key: str = ""
    url: str = ""
    alerts: list[Alert] = Field(default_factory=list)


class Delivery(BaseModel):
    ok: bool
    retryable: bool = False
    status_code: int | None = None
    detail: str = ""
    retry_after: float | None = None


class CheckStatus(enum.StrEnum):
    """A check's verdict. ``UNKNOWN`` (timed out, could not ask) is never read as healthy."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def failing(self) -> bool:
        return self is not CheckStatus.OK

    @property
    def rank(self) -> int:
        return {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}[self.value]


class Evidence(BaseModel):
    """One fact behind a verdict: what was asked, what came back (trimmed), and when."""

    source: str
    detail: str
    value: float | str | None = None


class CheckResult(BaseModel):
    status: CheckStatus
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    #: where the failure sits, for localisation: host, network, process, quorum, disk, config …
    layer: str = ""
    #: extra labels for the alert a failing result becomes (e.g. the mount point)
    labels: dict[str, str] = Field(default_factory=dict)


class Finding(BaseModel):
    """A check result bound to the check and target it came from, as stored and reported."""

    check: str
    target: str
    target_kind: str
    status: CheckStatus
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    layer: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    runbook: str | None = None
    started_at: datetime
    duration_seconds: float = 0.0


class Snapshot(BaseModel):
    """A collector's facts, without a verdict; rendered to the agent as data."""

    collector: str
    target: str
    data: dict[str, Any] = Field(default_factory=dict)
    collected_at: datetime


class Risk(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Step(BaseModel):
    """One concrete thing an action will do; the plan is the list of these, nothing more."""

    model_config = ConfigDict(frozen=True)

    description: str
    kind: str  # "archive", "delete", "compress", "command", "verify", "check"
    paths: list[str] = Field(default_factory=list)
    command: list[str] = Field(default_factory=list)
    bytes: int = 0
    #: where an archive step writes, so apply does not have to re-derive it
    dest: str = ""
    #: the file's mtime when planned; apply skips a file that changed since
    mtime: float | None = None
    #: the file's (st_dev, st_ino) when planned: apply deletes that object or nothing (execution.fsops)
    dev: int | None = None
    ino: int | None = None


class Plan(BaseModel):
    """What an action will do, computed without side effects. Approvals bind to ``plan_hash``."""

    action: str
    target: str
    params: dict[str, Any] = Field(default_factory=dict)
    risk: Risk
    steps: list[Step]
    expected_effect: str
    rollback: list[Step] = Field(default_factory=list)
    created_at: datetime
    notes: list[str] = Field(default_factory=list)

    @property
    def plan_hash(self) -> str:
        """Hash of everything that decides what would change (not of when it was planned)."""
        import hashlib
        import json

        body = self.model_dump(mode="json", exclude={"created_at", "notes"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    @property
    def touched_paths(self) -> list[str]:
        return sorted({p for s in self.steps for p in s.paths})

    @property
    def bytes_affected(self) -> int:
        return sum(s.bytes for s in self.steps if s.kind in {"delete", "compress"})


class ApprovalDecision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class RunState(enum.StrEnum):
    """Where an action run is: pending_approval → approved → running → succeeded | failed | rolled_back,
    or rejected. Stored as the value (a string column), so old rows and API clients read the same."""

    PENDING = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"

    @property
    def settled(self) -> bool:
        """Over: a repeated apply finds nothing to do."""
        return self in SETTLED_RUN_STATES


#: the states a run can still be applied from
APPLICABLE_RUN_STATES = frozenset({RunState.PENDING, RunState.APPROVED})
#: a run in one of these is over: a repeated apply message finds nothing to do
SETTLED_RUN_STATES = frozenset({RunState.REJECTED, RunState.SUCCEEDED, RunState.FAILED, RunState.ROLLED_BACK})


class Approval(BaseModel):
    """A human's (or the policy's) decision on one exact plan."""

    plan_hash: str
    approver: str
    decision: ApprovalDecision
    reason: str = ""
    decided_at: datetime
    expires_at: datetime


class Outcome(BaseModel):
    ok: bool
    summary: str
    output: str = ""
    bytes_freed: int = 0
    details: dict[str, Any] = Field(default_factory=dict)
