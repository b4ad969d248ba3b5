"""Prometheus text exposition (what ``/metrics`` answers) → plain samples, through ``prometheus_client``.

Exporters and inference servers (DCGM exporter, vLLM, SGLang, TGI, llama.cpp, Triton) all speak
this format; integrations read their ``/metrics`` through this one function instead of each
splitting lines by hand. A malformed body raises :class:`ValueError` naming the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def _wire_names(text: str) -> set[str]:
    """The sample names exactly as the server wrote them (first token of every sample line)."""
    names: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            ends = [i for i in (line.find("{"), line.find(" "), line.find("\t")) if i >= 0]
            names.add(line[:min(ends)] if ends else line)
    return names


def parse_exposition(text: str) -> list[Sample]:
    """Every sample in ``text`` under the name the server wrote (histogram ``_bucket``/``_sum``/``_count``
    kept as their own names).

    ``prometheus_client`` renames a counter sample that lacks ``_total`` (``tgi_request_failure``,
    ``nv_inference_request_failure``, ``DCGM_FI_DEV_ECC_DBE_VOL_TOTAL``) to ``<name>_total``, its
    OpenMetrics spelling; that name never appears on the wire, so lookups by the documented name
    would find nothing. The rename is undone here.
    """
    wire = _wire_names(text)
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as exc:  # the parser raises bare ValueError / IndexError on odd lines
        raise ValueError(f"not Prometheus text exposition: {exc}") from exc
    out: list[Sample] = []
    for family in families:
        for s in family.samples:
            name = s.name
            if family.type == "counter" and name not in wire and name.endswith("_total") and name[:-6] in wire:
                name = name[:-6]
            out.append(Sample(name, dict(s.labels), float(s.value)))
    return out


def by_name(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for s in samples:
        out.setdefault(s.name, []).append(s)
    return out


def total(samples: dict[str, list[Sample]], *names: str) -> float | None:
    """The sum over all label sets of the first of ``names`` present (finite values only), else None."""
    for name in names:
        values = [s.value for s in samples.get(name, []) if math.isfinite(s.value)]
        if values:
            return sum(values)
    return None


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's ``histogram_quantile`` over cumulative ``(le, count)`` buckets (linear inside a bucket).

    None when there are no observations; the highest finite bound when the quantile falls in ``+Inf``
    (what Prometheus does too: the histogram cannot say more).
    """
    points = sorted(buckets)
    if not points or points[-1][1] <= 0:
        return None
    rank = q * points[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in points:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def buckets_of(samples: dict[str, list[Sample]], base: str) -> list[tuple[float, float]]:
    """``base_bucket`` samples summed per ``le`` across label sets (all models of one server)."""
    acc: dict[float, float] = {}
    for s in samples.get(f"{base}_bucket", []):
        try:
            le = float(s.labels.get("le", "nan"))
        except ValueError:
            continue
        if not math.isnan(le):
            acc[le] = acc.get(le, 0.0) + s.value
    return sorted(acc.items())


__all__ = ["Sample", "buckets_of", "by_name", "histogram_quantile", "parse_exposition", "total"]
