"""Delivery: retries with backoff on 429/5xx, none on other 4xx, and a restart neither resends nor drops."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import select

from steadyops.contracts.notifiers import Notifier, RateLimit
from steadyops.core.clock import FakeClock
from steadyops.core.models import Delivery, Notification
from steadyops.plugins import Registry
from steadyops.store.tables import NotificationRow
from tests.harness.timeline import alert, push, run_until

SCRIPT: list[Delivery] = []
SENT: list[tuple[float, Notification]] = []
CLOCK: list[FakeClock] = []


class Scripted(Notifier):
    """Answers from SCRIPT (then ok), recording what it was asked to send."""

    name = "scripted"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(100, 60.0),)

    class Config(BaseModel):
        pass

    async def send(self, message: Notification) -> Delivery:
        SENT.append((round(CLOCK[0].elapsed, 3), message))
        return SCRIPT.pop(0) if SCRIPT else Delivery(ok=True, status_code=200)


class Throttled(Scripted):
    """Two messages a minute, like a strict chat robot."""

    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(2, 60.0),)


def registry(cls: type[Notifier] = Scripted) -> Registry:
    reg = Registry()
    reg.add_notifier(cls)
    return reg


def settings(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "route": {"group_by": ["instance"], "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "default", "channels": [{"type": "scripted"}]}],
        "notify_backoff": "1s",
        "notify_backoff_max": "10s",
        "notify_max_attempts": 4,
    }
    base.update(kw)
    return base


def reset(clock: FakeClock) -> None:
    SCRIPT.clear()
    SENT.clear()
    CLOCK[:] = [clock]


def rows(app: Any) -> list[NotificationRow]:
    with app.store.transaction() as s:
        return list(s.scalars(select(NotificationRow).order_by(NotificationRow.id)))


async def test_retry_on_429_and_5xx_with_backoff(make_app: Any, fake_clock: FakeClock) -> None:
    reset(fake_clock)
    app = make_app(registry(), **settings())
    SCRIPT.extend([Delivery(ok=False, retryable=True, status_code=503),
                   Delivery(ok=False, retryable=True, status_code=429, retry_after=3.0)])
    push(app, fake_clock, alert(fake_clock, instance="a"))
    await run_until(app, fake_clock, 10)
    times = [t for t, _ in SENT]
    assert len(times) == 3
    assert 1.0 <= times[0] <= 1.2           # group_wait
    assert 0.9 <= times[1] - times[0] <= 1.2  # first backoff 1 s
    assert times[2] - times[1] >= 3.0        # Retry-After honoured over the 2 s backoff
    (row,) = rows(app)
    assert row.status == "sent" and row.attempts == 3


async def test_no_retry_on_other_4xx(make_app: Any, fake_clock: FakeClock) -> None:
    reset(fake_clock)
    app = make_app(registry(), **settings())
    SCRIPT.append(Delivery(ok=False, retryable=False, status_code=400, detail="bad payload"))
    push(app, fake_clock, alert(fake_clock, instance="a"))
    await run_until(app, fake_clock, 10)
    assert len(SENT) == 1
    (row,) = rows(app)
    assert row.status == "failed" and "400" in row.last_error


async def test_gives_up_after_max_attempts(make_app: Any, fake_clock: FakeClock) -> None:
    reset(fake_clock)
    app = make_app(registry(), **settings())
    SCRIPT.extend([Delivery(ok=False, retryable=True, status_code=500)] * 10)
    push(app, fake_clock, alert(fake_clock, instance="a"))
    await run_until(app, fake_clock, 60, step=0.5)
    assert len(SENT) == 4
    assert rows(app)[0].status == "failed"


async def test_rate_limit_defers_instead_of_dropping(make_app: Any, fake_clock: FakeClock) -> None:
    reset(fake_clock)
    app = make_app(registry(Throttled), **settings())
    push(app, fake_clock, *(alert(fake_clock, instance=f"i{i}") for i in range(3)))
    await run_until(app, fake_clock, 5)
    assert len(SENT) == 2  # limit is 2 per 60 s
    await run_until(app, fake_clock, 70, step=1.0)
    assert len(SENT) == 3
    assert SENT[2][0] >= 60
    assert all(r.status == "sent" for r in rows(app))


async def test_restart_neither_resends_nor_drops(make_app: Any, fake_clock: FakeClock, tmp_path: Any) -> None:
    reset(fake_clock)
    data = tmp_path / "shared"
    app = make_app(registry(), data_dir=data, **settings())
    push(app, fake_clock, alert(fake_clock, instance="a"))
    await run_until(app, fake_clock, 1.5)
    assert len(SENT) == 1
    push(app, fake_clock, alert(fake_clock, instance="b"))  # its group timer is pending at "crash" time
    app.close()
    again = make_app(registry(), data_dir=data, **settings())
    await run_until(again, fake_clock, 5)
    groups = sorted(m.alerts[0].labels["instance"] for _, m in SENT)
    assert groups == ["a", "b"]  # a not resent, b's timer resumed


async def test_repeat_interval(make_app: Any, fake_clock: FakeClock) -> None:
    reset(fake_clock)
    app = make_app(registry(), **settings(route={"group_by": ["instance"], "group_wait": "1s",
                                                  "group_interval": "2s", "repeat_interval": "10s"}))
    push(app, fake_clock, alert(fake_clock, instance="a"))
    await run_until(app, fake_clock, 25, step=0.5)
    times = [t for t, _ in SENT]
    assert len(times) == 3
    assert 10 <= times[1] - times[0] <= 12
