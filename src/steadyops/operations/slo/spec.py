"""The SLO spec: Sloth's ``prometheus/v1`` format, read as is, plus two optional extensions.

A team that already keeps Sloth files can point steadyops at them unchanged: ``service``,
``labels``, ``slos[].objective`` (a percentage, ``99.9``), ``sli.events.error_query`` /
``total_query`` or ``sli.raw.error_ratio_query`` with the ``{{.window}}`` placeholder, and
``alerting`` with ``page_alert`` / ``ticket_alert``. Two extensions, both optional so a Sloth file
stays valid:

* ``window`` (service level or per SLO, default ``30d``): the SLO period. Sloth takes it from a
  command-line flag; a period that lives beside the objective cannot drift from it.
* ``sli.probe``: an SLI from steadyops' own checks (``check`` and optional ``target``), counted from
  ``steadyops_check_results_total`` which ``/metrics`` exports, so a probe that steadyops already
  runs becomes an SLO without another exporter.

Sloth's ``sli.plugin`` needs Sloth's plugin runtime; it is refused with a message saying so rather
than silently producing rules that measure nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from steadyops.config.durations import parse_duration
from steadyops.core.errors import ValidationFailed

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: the counter ``/metrics`` exports for every stored check result (see ``steadyops.operations.slo.exporter``)
PROBE_METRIC = "steadyops_check_results_total"


def _labels(value: dict[str, str]) -> dict[str, str]:
    bad = [k for k in value if not _LABEL.match(k)]
    if bad:
        raise ValueError(f"invalid label name(s) {bad}: use letters, digits and _ (not starting with a digit)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventsSLI(_Strict):
    error_query: str = Field(min_length=1)
    total_query: str = Field(min_length=1)


class RawSLI(_Strict):
    error_ratio_query: str = Field(min_length=1)


class ProbeSLI(_Strict):
    """steadyops extension: good/total from the results of one of steadyops' own checks."""

    check: str = Field(min_length=1, max_length=200)
    target: str | None = Field(default=None, max_length=200)

    def _selector(self, extra: str = "") -> str:
        parts = [f'check="{_quote(self.check)}"']
        if self.target:
            parts.append(f'target="{_quote(self.target)}"')
        if extra:
            parts.append(extra)
        return "{" + ",".join(parts) + "}"

    def events(self) -> EventsSLI:
        """A result that is not ``ok`` is a bad event; ``unknown`` counts too: a probe that cannot
        answer is not evidence of health."""
        bad = self._selector('status!="ok"')
        return EventsSLI(error_query=f"sum(rate({PROBE_METRIC}{bad}[{{{{.window}}}}]))",
                         total_query=f"sum(rate({PROBE_METRIC}{self._selector()}[{{{{.window}}}}]))")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class SLI(_Strict):
    events: EventsSLI | None = None
    raw: RawSLI | None = None
    probe: ProbeSLI | None = None
    plugin: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one(self) -> SLI:
        if self.plugin is not None:
            raise ValueError("sli.plugin needs Sloth's plugin runtime; use sli.events, sli.raw or sli.probe")
        given = [k for k in ("events", "raw", "probe") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an SLI needs exactly one of events, raw, probe (got {given or 'none'})")
        for query in self.queries():
            if not WINDOW_PLACEHOLDER.search(query):
                raise ValueError(f"query {query!r} has no {{{{.window}}}} placeholder; the burn-rate windows "
                                 "are substituted there")
        return self

    def queries(self) -> list[str]:
        if self.events is not None:
            return [self.events.error_query, self.events.total_query]
        if self.raw is not None:
            return [self.raw.error_ratio_query]
        return []

    def error_ratio(self, window: str) -> str:
        """The PromQL error ratio over ``window`` (a Prometheus duration)."""
        if self.raw is not None:
            return _fill(self.raw.error_ratio_query, window)
        events = self.events if self.events is not None else self.probe.events()  # type: ignore[union-attr]
        return f"({_fill(events.error_query, window)})\n/\n({_fill(events.total_query, window)})"


def _fill(query: str, window: str) -> str:
    return WINDOW_PLACEHOLDER.sub(window, query).strip()


class AlertSpec(_Strict):
    disable: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    _check_labels = field_validator("labels")(classmethod(lambda cls, v: _labels(v)))


class Alerting(_Strict):
    name: str = Field(default="", max_length=200)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    page_alert: AlertSpec = Field(default_factory=AlertSpec)
    ticket_alert: AlertSpec = Field(default_factory=AlertSpec)

    _check_labels = field_validator("labels")(classmethod(lambda cls, v: _labels(v)))

    @field_validator("name")
    @classmethod
    def _alert_name(cls, v: str) -> str:
        if v and not re.match(r"^[A-Za-z_:][A-Za-z0-9_:]*$", v):
            raise ValueError(f"alert name {v!r} must match [A-Za-z_:][A-Za-z0-9_:]*")
        return v


class SLOSpec(_Strict):
    name: str
    objective: float = Field(gt=0, lt=100, description="percent of good events, e.g. 99.9")
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    sli: SLI
    alerting: Alerting = Field(default_factory=Alerting)
    window: str | None = Field(default=None, description="steadyops extension: the SLO period (default 30d)")

    _check_labels = field_validator("labels")(classmethod(lambda cls, v: _labels(v)))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"SLO name {v!r}: letters, digits, '.', '_' and '-' only (at most 128)")
        return v

    @property
    def budget(self) -> float:
        """The error budget as a ratio (``1 - 99.9/100 = 0.001``)."""
        return round(1.0 - self.objective / 100.0, 12)


class ServiceSpec(_Strict):
    version: Literal["prometheus/v1"]
    service: str
    labels: dict[str, str] = Field(default_factory=dict)
    slos: list[SLOSpec] = Field(min_length=1)
    window: str = Field(default="30d", description="steadyops extension: the default SLO period")

    _check_labels = field_validator("labels")(classmethod(lambda cls, v: _labels(v)))

    @field_validator("service")
    @classmethod
    def _service(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"service {v!r}: letters, digits, '.', '_' and '-' only (at most 128)")
        return v

    @model_validator(mode="after")
    def _unique(self) -> ServiceSpec:
        names = [s.name for s in self.slos]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"SLO name(s) {dupes} defined twice in service {self.service!r}")
        for where, value in [("window", self.window), *((f"slos.{s.name}.window", s.window) for s in self.slos)]:
            if value is not None and parse_duration(value) < 3600:
                raise ValueError(f"{where}: {value!r} is shorter than an hour; an SLO period is days long")
        return self

    def period(self, slo: SLOSpec) -> str:
        return slo.window or self.window


def slo_id(service: str, slo: str) -> str:
    """Sloth's id (``<service>-<slo>``), so dashboards built for Sloth's labels work on our rules."""
    return f"{service}-{slo}"


def parse_specs(text: str, source: str = "<spec>") -> list[ServiceSpec]:
    """All service specs in a YAML text (several documents allowed, as Sloth allows).

    Raises :class:`ValidationFailed` naming the document and the field.
    """
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{source}: not YAML: {exc}") from exc
    if not docs:
        raise ValidationFailed(f"{source}: no SLO spec in it")
    specs = []
    for i, doc in enumerate(docs):
        try:
            specs.append(ServiceSpec.model_validate(doc))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(document)"
            raise ValidationFailed(f"{source} document {i + 1}: {where}: {first['msg']}") from exc
    return specs


def load_specs(paths: list[Path]) -> list[ServiceSpec]:
    """Specs from files and directories (``*.yaml`` / ``*.yml`` inside, sorted)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        else:
            files.append(p)
    specs: list[ServiceSpec] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationFailed(f"{f}: {exc.strerror or exc}") from exc
        specs += parse_specs(text, str(f))
    ids = [slo_id(s.service, o.name) for s in specs for o in s.slos]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValidationFailed(f"SLO id(s) {dupes} defined in more than one spec")
    return specs
