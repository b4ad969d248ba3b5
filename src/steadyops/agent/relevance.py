"""What a question is about, for the deterministic engine: the incidents it names and the kinds it mentions.

"why is BackupFailed2 firing?" must be answered about BackupFailed2 even when ten newer incidents
are open; "为什么 zk 集群告警？" must find ZooKeeper runbooks although the runbooks say
"ZooKeeper", not "zk". Matching is by tokens of the question against each open incident's title,
labels and targets — no rule names an alert, a service or a data set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.agent.commands import normalise
from steadyops.store import incident_targets
from steadyops.store.tables import IncidentRow

_WORD = re.compile(r"[a-z0-9][a-z0-9_.:-]*[a-z0-9]|[a-z0-9]|[\u4e00-\u9fff]+")
#: words too common in questions to say which incident is meant
_STOP = {"why", "is", "the", "a", "an", "what", "how", "firing", "alert", "alerts", "incident", "does", "do", "are",
         "for", "of", "on", "in", "to", "and", "or", "it", "this", "that", "with", "not", "there"}


def words(text: str) -> set[str]:
    return {w for w in _WORD.findall(normalise(text)) if w not in _STOP and len(w) > 1}


def _haystack(row: IncidentRow, targets: list[str]) -> set[str]:
    parts = [row.title, *(f"{k}={v}" for k, v in (row.labels or {}).items()), *(str(v) for v in row.labels.values()),
             *targets]
    return words(" ".join(parts))


def relevant_incidents(session: Session, question: str, *, limit: int = 5, scan: int = 500) -> list[IncidentRow]:
    """Open incidents the question names first (most matching words, then newest), then the newest others."""
    rows = list(session.scalars(select(IncidentRow).where(IncidentRow.status != "resolved")
                                .order_by(IncidentRow.id.desc()).limit(scan)))
    asked = words(question)
    targets = incident_targets.by_incident(session, [r.id for r in rows])
    scored = [(len(asked & _haystack(r, targets[r.id])), r) for r in rows]
    named = [r for score, r in sorted(scored, key=lambda sr: (-sr[0], -sr[1].id)) if score > 0]
    rest = [r for r in rows if r not in named]
    return (named + rest)[:limit]


def expand_kinds(question: str, aliases: Mapping[str, str]) -> str:
    """The question plus the canonical kind of every alias it uses (``zk`` → ``zookeeper``), for retrieval.
    ``aliases``: the grammar's nouns, ``registry.words()``."""
    text = normalise(question)
    extra = sorted({kind for alias, kind in aliases.items()
                    if (alias.isascii() and re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", text))
                    or (not alias.isascii() and alias in text)} - set(text.split()))
    return f"{question} {' '.join(extra)}" if extra else question
