"""The steadyops exception tree.

Callers catch by meaning, not by where an error came from, so every error the platform raises on
purpose sits under one root::

    SteadyOpsError
    ├── ConfigError                 invalid steadyops.yaml / STEADYOPS_* (names the field)
    ├── ValidationFailed            bad input from outside: maps to HTTP 4xx, nothing is stored
    │   ├── PayloadTooLarge         body over the configured limit (HTTP 413)
    │   └── UnsupportedMediaType    a body that is not JSON where only JSON is taken (HTTP 415)
    ├── NotFound                    an id that does not exist (HTTP 404)
    ├── Conflict                    a state transition that is not allowed (HTTP 409)
    ├── TransientError              retry later: a locked database, a network blip (HTTP 503)
    ├── PluginError                 duplicate or unknown plugin name (suggests close matches)
    ├── Refused                     a safety rule said no: allow-list, policy, lock, approval (HTTP 403)
    │   └── Forbidden               the caller's role does not allow this route or tool (HTTP 403)
    ├── Unauthenticated             no valid credential (missing, unknown, expired, revoked token) (HTTP 401)
    ├── DeliveryError               a notifier could not deliver (carries ``retryable``)
    ├── Unanswered                  a target could not be asked or gave no usable answer; ``layer`` localises
    │   │                           it (network, host, process, config): a check reads it as a verdict
    │   ├── HostAccessError         execution: SSH or local access failed (carries the check's status)
    │   ├── PrometheusUnanswered    the Prometheus HTTP API (integrations.prometheus)
    │   ├── ApiUnavailable          RabbitMQ's management API (integrations.rabbitmq)
    │   ├── InferenceUnanswered     a model server (integrations.inference)
    │   ├── GpuUnanswered           a GPU source (integrations.gpu)
    │   └── NvmlMissing             NVML absent or not starting on this machine (integrations.gpu)
    ├── ActionFailed                a mutating step failed on the target; nothing after it runs
    │   └── ShellError              execution: a command of an action's step failed
    └── MissingExtra                an optional driver is not installed; the message names the pip extra

Plugins put their own errors under one of these, so a caller never needs to know which integration
raised. (``execution.fsops.Refusal`` stays outside: that module runs on the target host under a bare
python3 and imports nothing of steadyops; the shell reports its refusals as refused steps.)
"""

from __future__ import annotations


class SteadyOpsError(Exception):
    """Root of every error steadyops raises on purpose."""


class ConfigError(SteadyOpsError):
    """Configuration is invalid; the message names the offending field."""


class ValidationFailed(SteadyOpsError):
    """Input from outside is malformed. Nothing has been written when this is raised."""


class PayloadTooLarge(ValidationFailed):
    """The request body exceeds the configured limit."""


class NotFound(SteadyOpsError):
    """The requested object does not exist."""


class Conflict(SteadyOpsError):
    """The requested state change is not allowed from the current state."""


class TransientError(SteadyOpsError):
    """A failure that a retry may fix; senders such as Alertmanager should retry on it."""


class PluginError(SteadyOpsError):
    """A plugin could not be registered or looked up."""


class DeliveryError(SteadyOpsError):
    """A notification could not be delivered."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Refused(SteadyOpsError):
    """A safety rule refused the request: not allow-listed, no policy, locked, or not approved."""


class Forbidden(Refused):
    """The authenticated principal's role (or token scope) does not allow this operation."""


class Unauthenticated(SteadyOpsError):
    """No valid credential came with the request: missing, unknown, expired or revoked."""


class UnsupportedMediaType(ValidationFailed):
    """The request's Content-Type is not one this endpoint takes (intake: JSON only)."""


class Unanswered(SteadyOpsError):
    """A target could not be asked, or gave no usable answer. ``layer`` says where it failed
    (``network``, ``host``, ``process``, ``config`` …) so a check turns it into a localised verdict."""

    layer: str = "network"

    def __init__(self, message: str, *, layer: str | None = None) -> None:
        super().__init__(message)
        if layer is not None:
            self.layer = layer


class ActionFailed(SteadyOpsError):
    """A mutating step failed on the target: the step stops there, nothing after it runs, and the
    executor audits what was done."""


class MissingExtra(SteadyOpsError):
    """An optional driver is not installed; the message names the extra that brings it
    (``pip install 'steadyops[redis]'``)."""

    def __init__(self, extra: str, module: str, purpose: str, *, kind: str = "") -> None:
        super().__init__(f"{purpose} needs the optional driver {module!r}: pip install 'steadyops[{extra}]'")
        self.extra = extra
        self.module = module
        #: the target kind left without checks, when an integration is what is missing
        self.kind = kind
