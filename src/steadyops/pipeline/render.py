"""Render one group flush as a bilingual Markdown notification (vendors adapt it further).

Every value that came from outside (labels, annotations, the incident title) is wrapped in
:func:`steadyops.core.markup.untrusted`, so each vendor escapes it for its own markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from steadyops.core.i18n import Lang, t
from steadyops.core.markup import untrusted
from steadyops.core.models import Alert, AlertStatus, Notification, Severity

MAX_LISTED = 20


def _line(alert: Alert, lang: Lang) -> str:
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    labels = untrusted(", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname"))
    when = (
        t("notify.ended", lang, at=alert.ends_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
        if alert.status is AlertStatus.RESOLVED and alert.ends_at
        else t("notify.started", lang, at=alert.starts_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
    )
    text = f"- **{untrusted(alert.name)}** {labels} ({when})"
    return f"{text}\n  {untrusted(summary)}" if summary else text


def render(
    *,
    group_labels: dict[str, str],
    firing: Sequence[Alert],
    resolved: Sequence[Alert],
    lang: Lang,
    incident_id: int | None,
    incident_title: str,
    group_key: str,
    url: str,
) -> Notification:
    status = AlertStatus.FIRING if firing else AlertStatus.RESOLVED
    shown = firing or resolved
    name = group_labels.get("alertname") or (shown[0].name if shown else "alerts")
    title = t("notify.title", lang, status=t(f"status.{status.value}", lang), count=len(shown), name=untrusted(name))
    parts: list[str] = [f"### {title}"]
    if incident_id is not None:
        parts.append(t("notify.incident", lang, id=incident_id, title=untrusted(incident_title)))
    for header, alerts in (("notify.firing_header", firing), ("notify.resolved_header", resolved)):
        if not alerts:
            continue
        parts.append(f"**{t(header, lang, count=len(alerts))}**")
        parts.extend(_line(a, lang) for a in alerts[:MAX_LISTED])
        if len(alerts) > MAX_LISTED:
            parts.append(t("notify.more", lang, count=len(alerts) - MAX_LISTED))
    if url:
        parts.append(url)
    severity = max((a.severity for a in shown), key=lambda s: s.rank, default=Severity.WARNING)
    return Notification(
        title=title,
        text="\n\n".join(parts),
        severity=severity,
        status=status,
        incident_id=incident_id,
        group_key=group_key,
        url=url,
        alerts=(list(firing) + list(resolved))[:100],
    )
