"""Notify: deliver the outbox, with per-channel rate limits and retry with backoff.

429 and 5xx (and network errors) are retried with exponential backoff, honouring Retry-After;
other 4xx are final, because resending a message the vendor called malformed cannot help. Each
attempt's result is written to the row so an operator can see why a page did not arrive; only the
vendor name and an error class are logged, never a URL or token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from steadyops.contracts.notifiers import Notifier
from steadyops.core.clock import Clock
from steadyops.core.models import Delivery, Notification
from steadyops.pipeline.ratelimit import RateLimiter
from steadyops.store import Store
from steadyops.store.tables import NotificationRow

log = logging.getLogger(__name__)


#: seconds a claimed notification stays invisible to other delivering processes (see Dispatcher._due)
CLAIM_LEASE = 120.0


class Dispatcher:
    def __init__(self, store: Store, channels: Mapping[tuple[str, int], Notifier], clock: Clock, *,
                 max_attempts: int, backoff: float, backoff_max: float) -> None:
        self.store = store
        self.channels = dict(channels)
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.limiters = {key: RateLimiter(n.rate_limits) for key, n in self.channels.items()}

    def _due(self, limit: int) -> list[NotificationRow]:
        """Due rows, claimed on PostgreSQL where several processes deliver (``serve`` and workers).

        The claim is ``FOR UPDATE SKIP LOCKED`` plus a lease: the rows' next attempt moves
        ``CLAIM_LEASE`` ahead in the same transaction, so no other process sees them as due while
        this one sends; :meth:`_record` / :meth:`_postpone` then set the real next attempt. A
        process that dies mid-send leaves the lease to run out, and the row is sent again by
        whoever comes next (at least once: a lost notification is worse than a repeated one)."""
        now = self.clock.now()
        with self.store.transaction() as session:
            stmt = (
                select(NotificationRow)
                .where(NotificationRow.status == "pending", NotificationRow.next_attempt_at <= now)
                .order_by(NotificationRow.id)
                .limit(limit)
            )
            if self.store.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
                rows = list(session.scalars(stmt))
                for row in rows:
                    row.next_attempt_at = now + timedelta(seconds=CLAIM_LEASE)
                return rows
            return list(session.scalars(stmt))

    async def deliver_due(self, limit: int = 100) -> int:
        """Attempt every due notification once; returns how many were delivered."""
        sent = 0
        for row in self._due(limit):
            key = (row.receiver, row.channel)
            notifier = self.channels.get(key)
            if notifier is None:
                self._record(row.id, Delivery(ok=False, retryable=False, detail="channel no longer configured"))
                continue
            wait = self.limiters[key].delay(self.clock.monotonic())
            if wait > 0:
                self._postpone(row.id, wait)
                continue
            message = Notification.model_validate(row.payload)
            try:
                result = await notifier.send(message)
            except Exception as exc:  # a plugin bug must not stop the dispatcher
                log.warning("notifier %s raised %s", notifier.name, type(exc).__name__)
                result = Delivery(ok=False, retryable=True, detail=f"notifier raised {type(exc).__name__}")
            self._record(row.id, result)
            sent += int(result.ok)
        return sent

    def _postpone(self, row_id: int, seconds: float) -> None:
        with self.store.transaction() as session:
            row = session.get(NotificationRow, row_id)
            if row is not None:
                row.next_attempt_at = self.clock.now() + timedelta(seconds=seconds)

    def _record(self, row_id: int, result: Delivery) -> None:
        now = self.clock.now()
        with self.store.transaction() as session:
            row = session.get(NotificationRow, row_id)
            if row is None:
                return
            row.attempts += 1
            if result.ok:
                row.status = "sent"
                row.sent_at = now
                row.last_error = ""
                log.info("notification %s delivered via %s", row.id, row.channel_type)
                return
            row.last_error = (f"HTTP {result.status_code}: " if result.status_code else "") + result.detail[:500]
            if not result.retryable or row.attempts >= self.max_attempts:
                row.status = "failed"
                log.warning("notification %s via %s failed for good (%s)", row.id, row.channel_type,
                            result.status_code or "no status")
                return
            delay = min(self.backoff * (2 ** (row.attempts - 1)), self.backoff_max)
            if result.retry_after is not None:
                delay = max(delay, min(result.retry_after, self.backoff_max))
            row.next_attempt_at = now + timedelta(seconds=delay)
            log.info("notification %s via %s will retry in %.1fs", row.id, row.channel_type, delay)
