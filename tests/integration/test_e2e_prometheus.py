"""End to end with real parts: node_exporter → Prometheus → Alertmanager → steadyops → receiver.

Every hop is the real program (the Debian packages, and steadyops as its own process) on free
loopback ports. Prometheus fires ``up{job="node"} == 1`` as soon as it has scraped node_exporter;
Alertmanager routes it to steadyops' webhook; steadyops opens an incident and notifies a local
webhook receiver. Then node_exporter is stopped, ``up`` drops to 0 and the rule stops matching:
the resolution travels the same way and the incident resolves by itself.

Alertmanager authenticates as steadyops expects of any sender: a service account with the
``ingest`` role, its token in the receiver's ``http_config.authorization`` (Bearer). The token can
post alerts and nothing else, and without it the webhook is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from steadyops.testing.receiver import ReceivedRequest, Receiver
from tests.harness.services import Services, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT = 60.0


def _rules(expr: str) -> dict[str, Any]:
    return {
        "groups": [{
            "name": "steadyops-e2e",
            "rules": [{
                "alert": "NodeExporterUp",
                "expr": expr,
                "for": "0s",
                "labels": {"severity": "warning"},
                "annotations": {"summary": "node_exporter {{ $labels.instance }} is being scraped"},
            }],
        }]
    }


def _notifications(rx: Receiver, status: str) -> list[ReceivedRequest]:
    return [r for r in rx.accepted("webhook") if r.json().get("status") == status]


def test_prometheus_alert_becomes_incident_and_resolves(
    require: Callable[..., None], services: Services, receiver: Receiver, tmp_path: Path
) -> None:
    require("prometheus", "alertmanager", "node_exporter")

    app = services.steadyops(
        {
            "route": {"receiver": "ops", "group_by": ["alertname", "instance"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "ops", "channels": [{"type": "webhook", "url": receiver.url("webhook")}]}],
            "lang": "en",
            "inspection": {"enabled": False},  # no scheduled host checks: only Alertmanager's alert
        },
        data_dir=tmp_path / "data",
    )
    admin = httpx.Client(base_url=app.url, timeout=10, headers={"Authorization": f"Bearer {app.token}"})
    admin.post("/api/v1/auth/principals", json={"name": "alertmanager", "kind": "service", "role": "ingest"}
               ).raise_for_status()
    ingest = admin.post("/api/v1/auth/tokens", json={"owner": "alertmanager", "name": "e2e webhook"}
                        ).raise_for_status().json()
    assert ingest["role"] == "ingest"
    sender = {"Authorization": f"Bearer {ingest['token']}"}
    assert httpx.get(f"{app.url}/api/v1/incidents", headers=sender).status_code == 403  # a sender reads nothing
    assert httpx.post(f"{app.url}/api/v1/alerts/alertmanager", json={}).status_code == 401  # no token, no entry
    node = services.node_exporter()
    am = services.alertmanager({
        "route": {"receiver": "steadyops", "group_by": ["alertname"], "group_wait": "1s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{
            "name": "steadyops",
            "webhook_configs": [{"url": f"{app.url}/api/v1/alerts/alertmanager", "send_resolved": True,
                                 "http_config": {"authorization": {"type": "Bearer",
                                                                   "credentials": ingest["token"]}}}],
        }],
    })
    prom = services.prometheus(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": [f"127.0.0.1:{node.port}"]}]}],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am.port}"]}]}]},
        },
        _rules('up{job="node"} == 1'),
    )
    logs = [app, am, prom]
    instance = f"127.0.0.1:{node.port}"
    api = admin

    # -- firing: the incident appears with the alert's labels ------------------------------------
    def open_incident() -> dict[str, Any] | None:
        incidents = api.get("/api/v1/incidents").raise_for_status().json()
        return next((i for i in incidents if i["labels"].get("alertname") == "NodeExporterUp"), None)

    incident = wait_until(open_incident, timeout=WAIT, what="the incident in steadyops", logs=logs)
    assert incident["status"] == "open"
    assert incident["labels"]["job"] == "node"
    assert incident["labels"]["instance"] == instance
    assert incident["severity"] == "warning"

    detail = api.get(f"/api/v1/incidents/{incident['id']}").raise_for_status().json()
    [alert] = detail["alerts"]
    assert alert["status"] == "firing"
    assert alert["labels"] == {"alertname": "NodeExporterUp", "job": "node", "instance": instance,
                               "severity": "warning"}
    assert alert["annotations"]["summary"] == f"node_exporter {instance} is being scraped"

    # The fingerprint is Prometheus' own: what Alertmanager computed is what steadyops stored.
    am_alerts = httpx.get(f"{am.url}/api/v2/alerts", timeout=10).raise_for_status().json()
    [am_alert] = [a for a in am_alerts if a["labels"].get("alertname") == "NodeExporterUp"]
    assert alert["fingerprint"] == am_alert["fingerprint"]

    # -- the notification reached the receiver -----------------------------------------------------
    firing = wait_until(lambda: _notifications(receiver, "firing"), timeout=WAIT,
                        what="a firing notification at the receiver", logs=logs)
    note = firing[0].json()
    assert note["incident_id"] == incident["id"]
    assert [a["fingerprint"] for a in note["alerts"]] == [alert["fingerprint"]]
    assert "NodeExporterUp" in note["title"]

    # -- the rule stops firing: the incident resolves by itself ------------------------------------
    # node_exporter goes away, so the next scrape sets up=0 and the rule no longer matches; Prometheus
    # then sends the resolution. (Rewriting the rule and reloading would not do: Prometheus drops the
    # alerts of a changed rule without resolving them, and Alertmanager waits for their endsAt.)
    node.stop()

    def resolved_incident() -> dict[str, Any] | None:
        current: dict[str, Any] = api.get(f"/api/v1/incidents/{incident['id']}").raise_for_status().json()
        return current if current["status"] == "resolved" else None

    closed = wait_until(resolved_incident, timeout=WAIT, what="the incident to resolve", logs=logs)
    assert closed["resolved_by"] == "auto"  # nobody resolved it by hand
    assert closed["mttr_seconds"] is not None
    assert [a["status"] for a in closed["alerts"]] == ["resolved"]

    resolved = wait_until(lambda: _notifications(receiver, "resolved"), timeout=WAIT,
                          what="a resolved notification at the receiver", logs=logs)
    assert [a["fingerprint"] for a in resolved[0].json()["alerts"]] == [alert["fingerprint"]]
    # One firing and one resolved message: nothing repeated on the way.
    assert len(_notifications(receiver, "firing")) == 1
    assert len(_notifications(receiver, "resolved")) == 1
    api.close()
