"""拨测 for a model server: one tiny streamed chat request, timed token by token.

What a user feels is time to first token (TTFT), the gaps between tokens (inter-token latency, ITL)
and tokens per second; a ``/health`` that answers 200 says none of that. The probe sends
``probe_prompt`` ("Reply with one word: OK") with ``max_tokens`` = ``probe_max_tokens`` (8),
``temperature`` 0 and ``stream: true`` to the OpenAI-compatible chat endpoint, and reads the
server-sent events as they arrive. The answer's text is never judged (a random-weights model
answers nonsense; the checks measure the server, not the model) and never shown to an LLM.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field

import httpx

from steadyops.contracts.checks import label_float, label_int
from steadyops.core.inventory import Target
from steadyops.integrations.inference.client import InferenceUnanswered, base_url, get, headers, unanswered_why
from steadyops.integrations.inference.flavours import Flavour

DEFAULT_PROMPT = "Reply with one word: OK"


@dataclass
class ProbeResult:
    url: str
    model: str
    status: int
    ttft_ms: float | None = None
    itl_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    total_ms: float = 0.0
    finish_reason: str = ""
    error: str = ""

    @property
    def itl_mean_ms(self) -> float | None:
        return statistics.fmean(self.itl_ms) if self.itl_ms else None

    @property
    def itl_p95_ms(self) -> float | None:
        if len(self.itl_ms) < 2:
            return self.itl_mean_ms
        return statistics.quantiles(self.itl_ms, n=20, method="inclusive")[18]

    @property
    def tokens_per_s(self) -> float | None:
        """Decode speed: tokens after the first over the time they took (prefill excluded)."""
        if self.ttft_ms is None or self.tokens < 2 or self.total_ms <= self.ttft_ms:
            return None
        return (self.tokens - 1) / ((self.total_ms - self.ttft_ms) / 1000.0)


async def model_name(target: Target) -> str:
    """Label ``model``, else the first id ``/v1/models`` lists."""
    named = target.labels.get("model", "").strip()
    if named:
        return named
    answer = await get(target, "/v1/models")
    if answer.status != 200:
        raise InferenceUnanswered(f"{answer.url} answered HTTP {answer.status}; set the label model", "config")
    try:
        return str(json.loads(answer.body)["data"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InferenceUnanswered(f"{answer.url} lists no model; set the label model", "config") from exc


def _content(event: dict[str, object]) -> tuple[str, str]:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "", ""
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
    text = (delta or {}).get("content") or choice.get("text") or ""
    return str(text), str(choice.get("finish_reason") or "")


async def run_probe(target: Target, flavour: Flavour) -> ProbeResult:
    """Send one streamed chat request; failures to connect raise, a bad answer is in ``error``."""
    if not flavour.chat_path:
        raise InferenceUnanswered(f"the {flavour.name} flavour has no OpenAI chat endpoint; set label flavour or url",
                                  "config")
    model = await model_name(target)
    url = base_url(target) + flavour.chat_path
    body = {"model": model, "stream": True, "temperature": 0,
            "max_tokens": label_int(target, "probe_max_tokens", 8),
            "messages": [{"role": "user", "content": target.labels.get("probe_prompt", DEFAULT_PROMPT)}]}
    timeout = httpx.Timeout(label_float(target, "probe_timeout", 30.0), connect=label_float(target, "timeout", 5.0))
    result = ProbeResult(url=url, model=model, status=0)
    started = time.monotonic()
    last: float | None = None
    try:
        async with httpx.AsyncClient(timeout=timeout, headers=headers(target)) as client, \
                client.stream("POST", url, json=body) as resp:
            result.status = resp.status_code
            if resp.status_code != 200:
                result.error = f"HTTP {resp.status_code}: {(await resp.aread()).decode('utf-8', 'replace')[:200]}"
                return result
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    continue
                if isinstance(event, dict) and "error" in event:
                    result.error = f"error event: {str(event['error'])[:200]}"
                    break
                text, finish = _content(event if isinstance(event, dict) else {})
                now = time.monotonic()
                if text:
                    if result.ttft_ms is None:
                        result.ttft_ms = round((now - started) * 1000, 1)
                    elif last is not None:
                        result.itl_ms.append(round((now - last) * 1000, 2))
                    last = now
                    result.tokens += 1
                result.finish_reason = finish or result.finish_reason
    except httpx.HTTPError as exc:
        raise await unanswered_why(target, exc, url, timeout.read or 0.0) from exc
    finally:
        result.total_ms = round((time.monotonic() - started) * 1000, 1)
    if result.tokens == 0 and not result.error:
        result.error = "the stream ended without a single token"
    return result


__all__ = ["DEFAULT_PROMPT", "ProbeResult", "model_name", "run_probe"]
