"""Session anomaly detection from event-id sequences, trained on normal sessions only.

A *session* is the ordered list of log-template ids that one unit of work produced (a block in HDFS,
a container in Hadoop, a VM in OpenStack). We learn what normal sessions look like and flag a
session that does something normal sessions never did. The detector is deliberately the simple,
strong family that Landauer et al. ("A critical review of common log data sets used for evaluation of
sequence-based anomaly detection techniques", 2023) found competitive with deep models, with
DeepLog's next-event idea kept but without the network:

* **Unseen events** — a template that never occurred in a normal session.
* **Surprising transitions** — for each position the previous ``order - 1`` events form a context;
  the next event (or the end of the session) is surprising when the context was never seen, or when
  the event is not among the ``top_k`` most frequent successors of that context in training
  (DeepLog's rule; ``top_k=None`` accepts any successor seen in training, i.e. STIDE's n-gram rule).
* **Length** outside the range of the training sessions.

Why no learned threshold on a continuous score by default: only normal data may set it, and the one
threshold that normal data justifies without labels is "more novelty than any training session
showed" — so :meth:`SequenceModel.fit` scores its own training sessions and sets the threshold to the
largest of those scores. Every training session is accepted by construction; ``tolerance`` lets an
operator trade recall for fewer alarms on systems whose normal behaviour is known to be diverse.

State is a plain dict (:meth:`SequenceModel.to_dict`), so a trained model can be stored and reloaded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SequenceConfig", "SequenceModel", "SessionVerdict"]

START = "\x02"  # padding before the first event, so the first events have a context too
END = "\x03"  # pseudo-event after the last one, so a session that stops early is a surprise
_SEP = "\x1f"  # joins a context into one dict key in the serialised state


@dataclass(frozen=True, slots=True)
class SequenceConfig:
    """One configuration for every log source; the defaults are that configuration."""

    order: int = 3
    """n-gram order: the next event is predicted from the previous ``order - 1`` events."""
    top_k: int | None = None
    """DeepLog's *g*: accept the ``top_k`` most frequent successors of a context; ``None`` = all seen."""
    check_length: bool = True
    tolerance: float = 0.0
    """Extra surprise rate (0..1) allowed above the training maximum before a session is flagged."""

    def __post_init__(self) -> None:
        if self.order < 2:
            raise ValueError("order must be at least 2 (one event of context)")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("top_k must be positive or None")


@dataclass(frozen=True, slots=True)
class SessionVerdict:
    """Why a session is (not) anomalous: the score and every rule that fired."""

    anomalous: bool
    score: float
    """Share of positions (events plus the end) that were surprising, in [0, 1]."""
    surprises: int
    positions: int
    unseen_events: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    first_surprise: int | None = None
    """Index of the first surprising event (``positions - 1`` means the end of the session)."""


class SequenceModel:
    """Learns normal event sequences; :meth:`score` tells whether a new session departs from them."""

    def __init__(self, config: SequenceConfig | None = None) -> None:
        self.config = config or SequenceConfig()
        self.events: Counter[str] = Counter()
        self.successors: dict[tuple[str, ...], Counter[str]] = {}
        self.min_length = 0
        self.max_length = 0
        self.threshold = 0.0
        self.sessions = 0
        self._allowed: dict[tuple[str, ...], frozenset[str]] = {}

    # --- training --------------------------------------------------------------------------------

    def fit(self, sessions: Iterable[Sequence[Hashable]]) -> SequenceModel:
        """Learn from normal sessions (replacing anything learned before) and set the threshold."""
        normal = [[str(e) for e in s] for s in sessions]
        if not normal:
            raise ValueError("fit needs at least one normal session")
        self.events = Counter()
        self.successors = {}
        for session in normal:
            self.events.update(session)
            for context, nxt in self._steps(session):
                self.successors.setdefault(context, Counter())[nxt] += 1
        lengths = [len(s) for s in normal]
        self.min_length, self.max_length = min(lengths), max(lengths)
        self.sessions = len(normal)
        self._index()
        self.threshold = max(self._surprise(s)[0] / (len(s) + 1) for s in normal)
        return self

    def _index(self) -> None:
        k = self.config.top_k
        self._allowed = {}
        for context, counts in self.successors.items():
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            self._allowed[context] = frozenset(e for e, _ in (ranked if k is None else ranked[:k]))

    def _steps(self, session: Sequence[str]) -> Iterable[tuple[tuple[str, ...], str]]:
        width = self.config.order - 1
        padded = [START] * width + list(session) + [END]
        for i in range(width, len(padded)):
            yield tuple(padded[i - width : i]), padded[i]

    # --- scoring ---------------------------------------------------------------------------------

    def _surprise(self, session: Sequence[str]) -> tuple[int, int | None]:
        count, first = 0, None
        for i, (context, nxt) in enumerate(self._steps(session)):
            allowed = self._allowed.get(context)
            if allowed is None or nxt not in allowed:
                count += 1
                if first is None:
                    first = i
        return count, first

    def score(self, session: Sequence[Hashable]) -> SessionVerdict:
        """Judge one session against what normal sessions did."""
        if not self.sessions:
            raise RuntimeError("SequenceModel.score called before fit")
        events = [str(e) for e in session]
        positions = len(events) + 1
        surprises, first = self._surprise(events)
        rate = surprises / positions
        unseen = sorted({e for e in events if e not in self.events})
        reasons: list[str] = []
        if unseen:
            reasons.append(f"{len(unseen)} event type(s) never seen in normal sessions: {', '.join(unseen[:5])}")
        if rate > self.threshold + self.config.tolerance:
            reasons.append(f"{surprises} of {positions} transitions never seen in normal sessions")
        if self.config.check_length and not self.min_length <= len(events) <= self.max_length:
            reasons.append(f"length {len(events)} outside the normal range {self.min_length}..{self.max_length}")
        return SessionVerdict(
            anomalous=bool(reasons),
            score=rate,
            surprises=surprises,
            positions=positions,
            unseen_events=unseen,
            reasons=reasons,
            first_surprise=first,
        )

    def predict(self, sessions: Iterable[Sequence[Hashable]]) -> list[bool]:
        """``True`` for each anomalous session."""
        return [self.score(s).anomalous for s in sessions]

    def next_events(self, context: Sequence[Hashable]) -> list[str]:
        """The events normal sessions allow after ``context`` (its last ``order - 1`` events), likeliest
        first — DeepLog's prediction, for explaining a verdict ("expected one of …, got …")."""
        width = self.config.order - 1
        key = tuple(([START] * width + [str(e) for e in context])[-width:])
        counts = self.successors.get(key, Counter())
        allowed = self._allowed.get(key, frozenset())
        return [e for e, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if e in allowed]

    # --- persistence -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot of the trained state."""
        cfg = self.config
        return {
            "version": 1,
            "config": {
                "order": cfg.order,
                "top_k": cfg.top_k,
                "check_length": cfg.check_length,
                "tolerance": cfg.tolerance,
            },
            "events": dict(self.events),
            "successors": {_SEP.join(ctx): dict(c) for ctx, c in self.successors.items()},
            "min_length": self.min_length,
            "max_length": self.max_length,
            "threshold": self.threshold,
            "sessions": self.sessions,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> SequenceModel:
        if state.get("version") != 1:
            raise ValueError(f"unsupported sequence model state version: {state.get('version')!r}")
        model = cls(SequenceConfig(**state["config"]))
        model.events = Counter({str(k): int(v) for k, v in state["events"].items()})
        width = model.config.order - 1
        model.successors = {}
        for key, counts in state["successors"].items():
            context = tuple(key.split(_SEP)) if width > 1 else (key,)
            model.successors[context] = Counter({str(k): int(v) for k, v in counts.items()})
        model.min_length = int(state["min_length"])
        model.max_length = int(state["max_length"])
        model.threshold = float(state["threshold"])
        model.sessions = int(state["sessions"])
        model._index()
        return model
