"""Talking to one inference server: its base URL and flavour, liveness/readiness, ``/metrics``.

Target: kind ``inference``, address ``host:port`` or a URL (label ``url`` wins). Labels: ``flavour``
(``vllm``, ``sglang``, ``tgi``, ``llama.cpp``, ``triton``, ``ollama``, ``openai``; detected from
``/metrics`` when absent, ``openai`` when there is none), ``timeout`` (5 s), ``api_key`` as a
credential reference in ``credentials`` (sent as a bearer token, never logged).

Failures are classified the way an on-call engineer reads them: connection refused → the process is
down (layer ``process``); DNS or routing errors → ``network``; a timeout on an open port is one of
two things, told apart by asking the same server for a page that needs no model (its root): if
that answers at once, the HTTP front is alive and the request was queued behind busy slots — the
server is **saturated** (layer ``capacity``, restart would only drop the queued work); if that
times out as well, nothing in the process answers — it is **hung** (layer ``process``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from steadyops.contracts.checks import label_float
from steadyops.contracts.memory import Remembers
from steadyops.core.credentials import resolve_secret
from steadyops.core.errors import Unanswered
from steadyops.core.inventory import Target, split_address
from steadyops.integrations.inference.flavours import FLAVOURS, Flavour, detect
from steadyops.integrations.inference.metrics import ServerMetrics, read_metrics

SHARE_S = 5.0


#: seconds the "is anything in the process answering?" request may take (at most half the target's
#: timeout): a saturated server's HTTP front answers in milliseconds, and the check must still end
#: within the runner's budget after the timed-out request
PULSE_S = 1.0


class InferenceUnanswered(Unanswered):
    """The model server gave no usable answer: ``hung`` (nothing answers) or ``busy`` (queued)."""

    def __init__(self, message: str, layer: str = "process", hung: bool = False, busy: bool = False) -> None:
        super().__init__(message, layer=layer)
        self.hung = hung
        self.busy = busy


def base_url(target: Target) -> str:
    url = target.labels.get("url", "").strip() or target.address.strip()
    if url.startswith(("http://", "https://")):
        return url.rstrip("/")
    host, port = split_address(url or "127.0.0.1:8000", 8000)
    return f"http://{host}:{port}"


def headers(target: Target) -> dict[str, str]:
    if not target.credentials:
        return {}
    return {"Authorization": f"Bearer {resolve_secret(target.credentials)}"}


def timeout_of(target: Target) -> float:
    return label_float(target, "timeout", 5.0)


def _refused(exc: BaseException) -> bool:
    """Whether a ConnectionRefusedError is anywhere in the cause chain (anyio wraps it as
    "All connection attempts failed")."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify(exc: httpx.HTTPError, url: str) -> InferenceUnanswered:
    """Refused → process down; timeout → hung; anything else on the way → network."""
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "refused" in text or "errno 111" in text or _refused(exc):
            return InferenceUnanswered(f"{url}: connection refused (the server process is down)", "process")
        return InferenceUnanswered(f"{url}: cannot connect ({exc})", "network")
    if isinstance(exc, httpx.TimeoutException):
        return InferenceUnanswered(f"{url}: no answer within the timeout (the server is hung or overloaded)",
                                   "process", hung=True)
    return InferenceUnanswered(f"{url}: {type(exc).__name__}: {exc}", "network")


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    elapsed_ms: float
    body: str


async def pulse(target: Target) -> int | None:
    """The HTTP status the server's root answers within :data:`PULSE_S` (any status: the front is
    alive), None when nothing answers."""
    try:
        async with httpx.AsyncClient(timeout=min(PULSE_S, timeout_of(target) / 2), headers=headers(target)) as client:
            return (await client.get(base_url(target) + "/")).status_code
    except httpx.HTTPError:
        return None


async def unanswered_why(target: Target, exc: httpx.HTTPError, url: str, waited: float) -> InferenceUnanswered:
    """:func:`classify`, with a timeout told apart: saturated (the root answers at once) or hung."""
    found = classify(exc, url)
    if not found.hung:
        return found
    status = await pulse(target)
    if status is None:
        return InferenceUnanswered(f"{url}: no answer within {waited:g} s, and nothing else in the process answers "
                                   "either (the server is hung)", "process", hung=True)
    return InferenceUnanswered(f"{url}: no answer within {waited:g} s while the server's root answered HTTP {status} "
                               "at once (saturated: every slot busy, requests queued)", "capacity", busy=True)


async def get(target: Target, path: str, timeout: float | None = None) -> Answer:
    url = base_url(target) + path
    started = time.monotonic()
    waited = timeout or timeout_of(target)
    try:
        async with httpx.AsyncClient(timeout=waited, headers=headers(target)) as client:
            resp = await client.get(url)
    except httpx.HTTPError as exc:
        raise await unanswered_why(target, exc, url, waited) from exc
    return Answer(url, resp.status_code, round((time.monotonic() - started) * 1000, 1), resp.text[:200_000])


#: one reading of a server: its flavour, this /metrics reading, and the earlier ones (newest first)
Reading = tuple[Flavour, ServerMetrics | None, list[ServerMetrics]]
HISTORY = 3


class Readings:
    """One registry's readings of its servers (the inference classes' ``memory``): the last
    :data:`HISTORY` ``/metrics`` readings per target, and the current one shared by a run's checks
    for :data:`SHARE_S` seconds."""

    def __init__(self) -> None:
        self._recent: dict[str, tuple[float, Reading]] = {}
        self._history: dict[str, list[ServerMetrics]] = {}

    def forget(self, target_name: str) -> None:
        """Read afresh next time, with no history (a restarted server starts its counters again)."""
        self._recent.pop(target_name, None)
        self._history.pop(target_name, None)

    async def flavour_and_metrics(self, target: Target) -> Reading:
        """(flavour, this reading, earlier readings newest first) — one fetch shared by a run's checks.

        A flavour without ``/metrics`` gives ``(flavour, None, [])``; an unreachable server raises.
        """
        hit = self._recent.get(target.name)
        if hit is not None and time.monotonic() - hit[0] < SHARE_S:
            return hit[1]
        named = target.labels.get("flavour", "").strip().lower()
        if named and named not in FLAVOURS:
            raise InferenceUnanswered(f"label flavour={named!r} is not one of {', '.join(FLAVOURS)}", "config")
        flavour = FLAVOURS.get(named)
        current: ServerMetrics | None = None
        if flavour is None or flavour.has_metrics:
            answer = await get(target, target.labels.get("metrics_path", "/metrics"))
            if answer.status == 200:
                flavour = flavour or detect(answer.body) or FLAVOURS["openai"]
                if flavour.has_metrics:
                    try:
                        current = read_metrics(answer.body, flavour)
                    except ValueError as exc:
                        raise InferenceUnanswered(f"{answer.url}: {exc}", "process") from exc
            flavour = flavour or FLAVOURS["openai"]
        before = list(self._history.get(target.name, []))
        if current is not None:
            self._history[target.name] = [current, *before][:HISTORY]
        value: Reading = (flavour, current, before)
        self._recent[target.name] = (time.monotonic(), value)
        return value


class UsesReadings(Remembers[Readings]):
    """An inference check, collector or action: ``self.memory`` is its registry's :class:`Readings`."""

    memory_type = Readings


__all__ = ["PULSE_S", "Answer", "InferenceUnanswered", "Reading", "Readings", "UsesReadings", "base_url", "classify",
           "get", "headers", "pulse", "timeout_of", "unanswered_why"]
