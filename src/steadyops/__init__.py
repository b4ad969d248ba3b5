"""steadyops: an LLM-driven SRE platform for stability assurance (稳定性保障).

The public API is what ``__all__`` lists; integrations import only from here.
"""

from __future__ import annotations

from steadyops.errors import (
    ConfigError,
    Conflict,
    DeliveryError,
    NotFound,
    PayloadTooLarge,
    PluginError,
    SteadyOpsError,
    TransientError,
    ValidationFailed,
)
from steadyops.models import (
    Alert,
    AlertStatus,
    Delivery,
    Incident,
    IncidentStatus,
    InhibitRule,
    Matcher,
    Notification,
    Severity,
    Silence,
    fingerprint,
)
from steadyops.notifiers import Notifier, RateLimit, delivery_from_response, truncate_utf8
from steadyops.plugins import Registry

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AlertStatus",
    "ConfigError",
    "Conflict",
    "Delivery",
    "DeliveryError",
    "Incident",
    "IncidentStatus",
    "InhibitRule",
    "Matcher",
    "NotFound",
    "Notification",
    "Notifier",
    "PayloadTooLarge",
    "PluginError",
    "RateLimit",
    "Registry",
    "Severity",
    "Silence",
    "SteadyOpsError",
    "TransientError",
    "ValidationFailed",
    "__version__",
    "delivery_from_response",
    "fingerprint",
    "truncate_utf8",
]
