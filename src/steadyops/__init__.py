"""steadyops: an LLM-driven SRE platform for stability assurance (稳定性保障).

The public API is what ``__all__`` lists; integrations import only from here.
"""

from __future__ import annotations

from steadyops.contracts.actions import Action, ActionContext
from steadyops.contracts.checks import Check, grade, grade_low, label_bool, label_float, label_int, verdict, worst
from steadyops.contracts.collectors import Collector
from steadyops.contracts.memory import Remembers, remembering
from steadyops.contracts.notifiers import Notifier, RateLimit, delivery_from_response, truncate_utf8
from steadyops.contracts.sections import ReportSection, SectionProvider
from steadyops.contracts.toolsets import Tool, ToolContext, Toolset
from steadyops.core.errors import (
    ActionFailed,
    ConfigError,
    Conflict,
    DeliveryError,
    MissingExtra,
    NotFound,
    PayloadTooLarge,
    PluginError,
    Refused,
    SteadyOpsError,
    TransientError,
    Unanswered,
    ValidationFailed,
)
from steadyops.core.inventory import Inventory, Target, split_address
from steadyops.core.models import (
    Alert,
    AlertStatus,
    Approval,
    CheckResult,
    CheckStatus,
    Delivery,
    Evidence,
    Finding,
    Incident,
    IncidentStatus,
    InhibitRule,
    Matcher,
    Notification,
    Outcome,
    Plan,
    Risk,
    Severity,
    Silence,
    Snapshot,
    Step,
    fingerprint,
)
from steadyops.plugins import Cleanup, DoCommand, Registry

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionContext",
    "ActionFailed",
    "Alert",
    "AlertStatus",
    "Approval",
    "Check",
    "CheckResult",
    "CheckStatus",
    "Cleanup",
    "Collector",
    "ConfigError",
    "Conflict",
    "Delivery",
    "DeliveryError",
    "DoCommand",
    "Evidence",
    "Finding",
    "Incident",
    "IncidentStatus",
    "InhibitRule",
    "Inventory",
    "Matcher",
    "MissingExtra",
    "NotFound",
    "Notification",
    "Notifier",
    "Outcome",
    "PayloadTooLarge",
    "Plan",
    "PluginError",
    "RateLimit",
    "Refused",
    "Registry",
    "Remembers",
    "ReportSection",
    "Risk",
    "SectionProvider",
    "Severity",
    "Silence",
    "Snapshot",
    "SteadyOpsError",
    "Step",
    "Target",
    "Tool",
    "ToolContext",
    "Toolset",
    "TransientError",
    "Unanswered",
    "ValidationFailed",
    "__version__",
    "delivery_from_response",
    "fingerprint",
    "grade",
    "grade_low",
    "label_bool",
    "label_float",
    "label_int",
    "remembering",
    "split_address",
    "truncate_utf8",
    "verdict",
    "worst",
]
