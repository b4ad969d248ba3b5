"""Settings: ``steadyops.yaml`` overlaid by ``STEADYOPS_*`` environment variables.

Environment wins over the file so a container or CI job can change one value without editing
YAML; nested keys use ``__`` (``STEADYOPS_ROUTE__GROUP_WAIT=10s``). Every mistake surfaces at start
as a :class:`ConfigError` naming the field, never later as a crash in a timer.
"""

from __future__ import annotations

import locale
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from steadyops.config.durations import Duration
from steadyops.config.durations import parse_duration as parse_duration  # re-exported for callers of config
from steadyops.config.errors import KeyedConfigError, LocalizedValueError, unknown_keys, with_unknown_keys
from steadyops.config.logs import LogSource
from steadyops.config.operations import ChangesSettings, OnCallSettings, ReportsSettings, SLOSettings
from steadyops.core.errors import ConfigError
from steadyops.core.models import InhibitRule, Matcher, Risk


def _parse_matchers(value: Any) -> Any:
    if isinstance(value, list):
        return [Matcher.parse(v) if isinstance(v, str) else v for v in value]
    return value


Matchers = Annotated[list[Matcher], BeforeValidator(_parse_matchers)]


class Section(BaseModel):
    """Base of every settings section: a misspelt key is an error, not a silently ignored line."""

    model_config = ConfigDict(extra="forbid")


class RouteConfig(Section):
    """One node of the routing tree, with Alertmanager's inheritance of unset fields."""

    receiver: str | None = None
    matchers: Matchers = Field(default_factory=list)
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(default=False, alias="continue")
    routes: list[RouteConfig] = Field(default_factory=list)

    model_config = {"populate_by_name": True}


def _default_route() -> RouteConfig:
    return RouteConfig(
        receiver="default",
        group_by=["alertname"],
        group_wait=30.0,
        group_interval=300.0,
        repeat_interval=14400.0,
    )


class ChannelConfig(BaseModel):
    """A notifier instance; ``type`` picks the plugin, the other keys are its own Config."""

    type: str
    model_config = {"extra": "allow"}


class ReceiverConfig(Section):
    name: str
    channels: list[ChannelConfig] = Field(default_factory=list)


class InhibitRuleConfig(Section):
    source_matchers: Matchers
    target_matchers: Matchers
    equal: list[str] = Field(default_factory=list)

    def to_rule(self) -> InhibitRule:
        return InhibitRule(
            source_matchers=self.source_matchers, target_matchers=self.target_matchers, equal=self.equal
        )


Provider = Literal["openai", "vllm", "sglang", "ollama", "llamacpp", "deepseek", "dashscope"]


class LLMConfig(Section):
    base_url: str = Field(description="e.g. http://127.0.0.1:8000/v1")
    model: str
    api_key: SecretStr | None = None
    provider: Provider = "openai"
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    retry_backoff: float = Field(default=1.0, ge=0, description="first retry delay, doubled each time")
    temperature: float = 0.1
    max_tokens: int = Field(default=1024, gt=0)
    stream: bool = False
    #: price per 1k tokens, for cost accounting (0 for self-hosted)
    price_input_per_1k: float = 0.0
    price_output_per_1k: float = 0.0


DEFAULT_METRICS = {
    "cpu": '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance=~"{host}"}[1m]))',
    "memory": '1 - node_memory_MemAvailable_bytes{instance=~"{host}"} / node_memory_MemTotal_bytes{instance=~"{host}"}',
    "load": 'node_load1{instance=~"{host}"}',
    "disk": 'max by (instance) (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs",instance=~"{host}"}'
            ' / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs",instance=~"{host}"})',
    "down": '1 - up{instance=~"{host}"}',
}


class PrometheusConfig(Section):
    """Where diagnosis and the agent read metrics. ``{host}`` in a query is the target's instance regex."""

    url: str
    bearer_token: SecretStr | None = None
    timeout: Duration = 5.0
    metrics: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_METRICS))
    lookback: Duration = 1800.0
    after: Duration = 300.0
    step: Duration = 30.0


class TracesConfig(Section):
    """Where diagnosis reads traces: a Jaeger query service (``/api/services``, ``/api/traces``).

    The spans of the incident's window become trace evidence of the same root-cause case as the
    metrics (a slow callee's self time, errors a service originated, calls that found nobody home).
    Jaeger names components by their service name; ``service_map`` renames them to inventory
    targets where the two differ.
    """

    url: str = Field(description="Jaeger query base URL, e.g. http://jaeger:16686")
    bearer_token: SecretStr | None = None
    timeout: Duration = 5.0
    services: list[str] = Field(default_factory=list, description="services to read; empty = all Jaeger knows")
    limit: int = Field(default=500, ge=1, le=100_000, description="most traces read per service")
    service_map: dict[str, str] = Field(default_factory=dict, description="Jaeger service name -> target name")
    lookback: Duration = Field(default=1800.0, description="normal window before the first alert "
                               "(used when no Prometheus section sets it)")
    after: Duration = 300.0


class ConvergenceConfig(Section):
    """Topology-aware convergence: alerts on linked targets within ``window`` share an incident."""

    enabled: bool = True
    window: Duration = 600.0
    max_hops: int = Field(default=2, ge=1, le=10)
    reopen_window: Duration = Field(default=300.0, description="an auto-resolved incident reopens when its "
                                    "targets fail again within this; 0 turns it off (flapping stays one incident)")
    target_labels: list[str] = Field(default_factory=lambda: ["target", "instance", "host", "service", "job"])


class InspectionScope(BaseModel):
    """Schedule overrides for one kind of target (``inspection.kinds.redis``)."""

    model_config = {"extra": "forbid"}
    interval: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)


class InspectionConfig(BaseModel):
    """The scheduler inside ``serve``: every target's checks on their interval.

    An interval or timeout resolves target label (``inspection_interval`` / ``check_timeout``) →
    ``kinds.<kind>`` → this global value → the check's own default, so one slow fleet can be
    watched less often without touching the rest.
    """

    model_config = {"extra": "forbid"}
    enabled: bool = True
    interval: Duration | None = Field(default=None, gt=0, description="every target; unset: each check's default")
    timeout: Duration | None = Field(default=None, gt=0, description="per check; unset: each check's default")
    jitter: float = Field(default=0.1, ge=0.0, le=0.5, description="fraction of the interval, spreads load")
    concurrency: int = Field(default=16, ge=1, description="checks running at once, all targets together")
    per_target: int = Field(default=4, ge=1, description="checks running at once against one target")
    kinds: dict[str, InspectionScope] = Field(default_factory=dict)


class RunnerConfig(Section):
    """Where jobs run (inspections, diagnoses, remediation steps, notifications).

    ``embedded`` (the default): in the ``serve`` process, on its event loop, with SQLite or
    PostgreSQL. ``celery``: ``steadyops worker`` processes take the jobs from a broker (RabbitMQ
    recommended: acks_late + reject_on_worker_lost redeliver a killed worker's jobs at once, with no
    visibility timeout to guess) and share a PostgreSQL store; needs ``pip install steadyops[distributed]``.
    """

    engine: Literal["embedded", "celery"] = "embedded"
    broker_url: str = Field(default="amqp://guest:guest@127.0.0.1:5672//", description="Celery broker URL")
    queue: str = Field(default="steadyops", min_length=1, description="the broker queue the workers consume")
    batch: int = Field(default=25, ge=1, le=1000, description="targets per inspection message")
    worker_threads: int = Field(default=4, ge=1, le=64,
                                description="messages one worker process works on at once (one event loop)")
    apply_wait: Duration = Field(default=900.0, gt=0, description="how long the API waits for a worker's apply")


class IntakeConfig(Section):
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_alerts_per_request: int = Field(default=10_000, gt=0)
    max_future_skew: Duration = 3600.0
    max_age: Duration = 30 * 86400.0
    #: nesting of the JSON body (objects and arrays); deeper is 400, never a RecursionError
    max_json_depth: int = Field(default=32, ge=4, le=500)
    max_labels: int = Field(default=64, gt=0, description="labels per alert")
    max_annotations: int = Field(default=64, gt=0, description="annotations per alert")
    max_label_bytes: int = Field(default=2048, gt=0, description="UTF-8 bytes of one label name or value")
    max_annotation_bytes: int = Field(default=32_768, gt=0, description="UTF-8 bytes of one annotation value")


RoleName = Literal["ingest", "viewer", "responder", "approver", "admin"]


class OIDCConfig(BaseModel):
    """Single sign-on through an OpenID Connect provider (Keycloak, Dex, Okta …), via authlib.

    A person logs in at ``/api/v1/auth/oidc/login``; the ID token's ``roles_claim`` values are
    mapped to a steadyops role with ``role_map`` (the highest wins); with no match and no
    ``default_role`` the login is refused, so an IdP account alone grants nothing.
    """

    issuer: str = Field(description="e.g. https://sso.example.com/realms/ops (discovery is read from it)")
    client_id: str
    client_secret: SecretStr | None = None
    redirect_url: str = Field(description="this server's /api/v1/auth/oidc/callback as the IdP sees it")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    username_claim: str = "preferred_username"
    roles_claim: str = "groups"
    role_map: dict[str, RoleName] = Field(default_factory=dict)
    default_role: RoleName | None = None


class AuthConfig(BaseModel):
    """Who may call, and how the server listens.

    Beyond loopback, ``serve`` refuses to start without TLS (``tls_certfile``/``tls_keyfile``)
    unless ``behind_tls_proxy`` says a proxy in front terminates TLS (logged loudly at start).
    """

    session_ttl: Duration = 12 * 3600.0
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    behind_tls_proxy: bool = False
    oidc: OIDCConfig | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> AuthConfig:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together")
        return self


def _default_lang() -> Literal["zh", "en"]:
    for var in ("STEADYOPS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        val = os.environ.get(var)
        if val:
            return "zh" if val.lower().startswith("zh") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "zh" if loc.lower().startswith("zh") else "en"


class PolicyRule(Section):
    """The first rule that matches an (action, risk, target) decides how many approvals it needs."""

    actions: list[str] = Field(default_factory=lambda: ["*"], description="fnmatch patterns on action names")
    risks: list[Risk] = Field(default_factory=lambda: list(Risk))
    targets: list[str] = Field(default_factory=lambda: ["*"], description="fnmatch patterns on target names")
    target_labels: dict[str, str] = Field(default_factory=dict, description="all must match (fnmatch values)")
    mode: Literal["auto", "one", "two"]
    approvers: list[str] = Field(default_factory=list, description='user names; "*" means anyone')

    @model_validator(mode="after")
    def _approvers_needed(self) -> PolicyRule:
        if self.mode != "auto" and not self.approvers:
            raise LocalizedValueError(f"mode {self.mode!r} needs an approvers list", "cfgerr.needs_approvers",
                                      mode=self.mode)
        return self

    @property
    def required(self) -> int:
        return {"auto": 0, "one": 1, "two": 2}[self.mode]


class AllowRule(Section):
    """What an action may touch on a target: directory roots and exact command lines."""

    targets: list[str] = Field(default_factory=lambda: ["*"])
    actions: list[str] = Field(default_factory=lambda: ["*"])
    paths: list[str] = Field(default_factory=list, description="absolute directory roots")
    commands: list[list[str]] = Field(default_factory=list, description="exact argv lists")

    @model_validator(mode="after")
    def _absolute(self) -> AllowRule:
        for p in self.paths:
            if not p.startswith("/"):
                raise LocalizedValueError(f"allow-listed path {p!r} must be absolute", "cfgerr.path_absolute", path=p)
            if ".." in Path(p).parts:
                raise LocalizedValueError(f"allow-listed path {p!r} must not contain '..'", "cfgerr.path_dotdot",
                                          path=p)
        return self


class RemediationConfig(Section):
    approval_expiry: Duration = 1800.0
    policies: list[PolicyRule] = Field(default_factory=list)
    allow: list[AllowRule] = Field(default_factory=list)
    backup_dir: Path | None = None
    lock_ttl: Duration = 3600.0
    action_timeout: Duration = 600.0
    requester_may_approve: bool = False


class AuditConfig(BaseModel):
    """Where the audit signing key and the anchor live: apart from the data (i10b)."""

    #: default ``<data_dir>-keys/audit.key`` (0600, its directory 0700); ``STEADYOPS_AUDIT_KEY`` overrides
    key_file: Path | None = None
    #: signed checkpoints, one per committed entry; default ``audit.anchor.jsonl`` beside the key
    anchor_file: Path | None = None
    #: also POST each checkpoint here (a receiver on another machine), best effort
    anchor_url: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STEADYOPS_", env_nested_delimiter="__", extra="forbid", yaml_file=None
    )

    data_dir: Path = Path("data")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8900, ge=1, le=65535)
    lang: Literal["zh", "en"] = Field(default_factory=_default_lang)
    public_url: str = ""
    tick: Duration = 0.25
    #: ingestion (journal → incidents) in a child process of its own, so intake and the pipeline each
    #: get a core; unset: ``steadyops serve`` turns it on, an App run in-process (tests) keeps one process
    pipeline_process: bool | None = Field(default=None, description="ingest alerts in a child process of serve")
    #: how many such children: on PostgreSQL they share the journal by shards (pipeline/ingester.py),
    #: so a storm is drained by several cores; SQLite has one writer and one read cursor, so one
    pipeline_processes: int = Field(default=1, ge=1, le=32,
                                    description="ingestion children of serve (PostgreSQL; SQLite uses one)")
    route: RouteConfig = Field(default_factory=_default_route)
    receivers: list[ReceiverConfig] = Field(default_factory=lambda: [ReceiverConfig(name="default")])
    inhibit_rules: list[InhibitRuleConfig] = Field(default_factory=list)
    convergence: ConvergenceConfig = Field(default_factory=ConvergenceConfig)
    inspection: InspectionConfig = Field(default_factory=InspectionConfig)
    runner: RunnerConfig = Field(default_factory=RunnerConfig, description="embedded or Celery workers (i13)")
    intake: IntakeConfig = Field(default_factory=IntakeConfig)
    inventory: Path | None = None
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff: Duration = 1.0
    notify_backoff_max: Duration = 300.0
    resolve_timeout: Duration = 300.0
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)
    prometheus: PrometheusConfig | None = Field(default=None, description="metrics for diagnosis and the agent")
    traces: TracesConfig | None = Field(default=None, description="Jaeger query API: trace evidence for diagnosis")
    llm: LLMConfig | None = Field(default=None, description="OpenAI-compatible endpoint; none = deterministic engine")
    log_sources: list[LogSource] = Field(default_factory=list, description="local log files per inventory target")
    slo: SLOSettings = Field(default_factory=SLOSettings, description="SLO specs and generated rules (i15)")
    changes: ChangesSettings = Field(default_factory=ChangesSettings, description="change intake and risk (i15)")
    oncall: OnCallSettings = Field(default_factory=OnCallSettings, description="schedules, escalation (i15)")
    reports: ReportsSettings = Field(default_factory=ReportsSettings, description="daily/weekly/monthly (i15)")
    demo: bool = Field(default=False, description="add the safe remediation demo (steadyops.remediation.demo)")
    auth: AuthConfig = Field(default_factory=AuthConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig, description="audit key and anchor, apart from the data")

    @field_validator("route")
    @classmethod
    def _root_route_complete(cls, v: RouteConfig) -> RouteConfig:
        if v.matchers:
            raise ValueError("the root route must not have matchers (it catches every alert)")
        defaults = _default_route()
        return v.model_copy(
            update={
                "receiver": v.receiver or defaults.receiver,
                "group_by": v.group_by if v.group_by is not None else defaults.group_by,
                "group_wait": v.group_wait if v.group_wait is not None else defaults.group_wait,
                "group_interval": v.group_interval if v.group_interval is not None else defaults.group_interval,
                "repeat_interval": (
                    v.repeat_interval if v.repeat_interval is not None else defaults.repeat_interval
                ),
            }
        )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'steadyops.db').as_posix()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_path = _config_path()
        if yaml_path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_path))
        return tuple(sources)


#: the config file :func:`load_settings` reads for the Settings it is building now (pydantic asks the
#: class, not the call, for its sources); a context variable, so two loads in one process never mix
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("steadyops_config_file", default=None)


def _config_path() -> Path | None:
    explicit = _CONFIG_FILE.get() or (
        Path(os.environ["STEADYOPS_CONFIG"]) if os.environ.get("STEADYOPS_CONFIG") else None
    )
    if explicit is not None:
        return explicit
    default = Path("steadyops.yaml")
    return default if default.is_file() else None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, each starting with the dotted field path the operator must fix."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{loc}: {err['msg']}")
    return "; ".join(lines)


def _check_yaml(path: Path | None) -> Any:
    """Parse the file once up front so a syntax error or a non-mapping is reported as such."""
    if path is None:
        return None
    try:
        with path.open(encoding="utf-8") as fh:  # a stream, so a syntax error names the file
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise KeyedConfigError(f"cannot read config file {path}: {exc.strerror}", "cfgerr.unreadable",
                               path=path, reason=exc.strerror) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid configuration: YAML syntax error: {' '.join(str(exc).split())}") from exc
    if doc is not None and not isinstance(doc, dict):
        raise KeyedConfigError(f"{path}: the top level must be a mapping (key: value)", "cfgerr.not_mapping_in",
                               path=path)
    return doc


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings or raise :class:`ConfigError` naming every bad field."""
    if config_file is not None and not config_file.is_file():
        raise KeyedConfigError(f"config file {config_file} does not exist", "cfgerr.no_file", path=config_file)
    doc = _check_yaml(config_file or _config_path())
    token = _CONFIG_FILE.set(config_file)
    try:
        settings = Settings(**overrides)
        unknown = unknown_keys(Settings, doc)
        if unknown is not None:
            raise unknown
        return settings
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid configuration: YAML syntax error: {' '.join(str(exc).split())}") from exc
    except ValidationError as exc:
        exc = with_unknown_keys(exc, Settings, doc)
        raise ConfigError(f"invalid configuration: {describe_validation_error(exc)}") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    finally:
        _CONFIG_FILE.reset(token)
