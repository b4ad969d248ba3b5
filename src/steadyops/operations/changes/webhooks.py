"""Change events in the shapes CI/CD systems already send: GitLab, Jenkins, Argo CD.

Each parser reads only the documented fields it needs and raises :class:`ValidationFailed` naming
what is missing, so a misconfigured hook gets a 400 that says why (and nothing is stored).
``where`` is rarely in these payloads in our terms: the caller names the targets with
``?target=a&target=b`` on the hook URL, or the parser falls back to the project / job /
application name, which the inventory may know.

* GitLab: the *Pipeline* and *Deployment* events (``object_kind``), as documented under
  "Webhook events" (``object_attributes.id/status/created_at/finished_at``, ``user``, ``project``;
  ``deployment_id``, ``environment``, ``status_changed_at``).
* Jenkins: the Notification plugin's JSON (``name``, ``build.full_url/number/phase/status/scm``).
* Argo CD: a notifications webhook whose body template is ``{"app": {{toJson .app}}}`` (the
  Application object: ``metadata.name``, ``spec.destination``, ``status.operationState``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from steadyops.core.errors import ValidationFailed
from steadyops.operations.changes.model import ChangeIn, ChangeKind, ChangeStatus, compact

Parser = Callable[[Any, list[str]], ChangeIn]


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(f"{where}: expected a JSON object")
    return value


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    value = data.get(key)
    if value in (None, ""):
        raise ValidationFailed(f"{where}.{key} is missing")
    return value


def _build(fields: dict[str, Any], source: str) -> ChangeIn:
    try:
        return ChangeIn.model_validate(compact(fields))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        raise ValidationFailed(f"{source} change: {where}: {first['msg']}") from exc


def _gitlab_time(value: Any) -> datetime | str | None:
    """GitLab writes ``2016-08-12 15:23:28 UTC`` or ``2021-04-28 21:50:00 +0200`` in hooks; ISO 8601 elsewhere."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + " +0000"
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return text  # ISO 8601, or a clear validation error naming the field


_GITLAB_PIPELINE = {"created": ChangeStatus.PLANNED, "waiting_for_resource": ChangeStatus.PLANNED,
                    "preparing": ChangeStatus.PLANNED, "pending": ChangeStatus.PLANNED,
                    "running": ChangeStatus.IN_PROGRESS, "success": ChangeStatus.SUCCEEDED,
                    "failed": ChangeStatus.FAILED, "canceled": ChangeStatus.CANCELLED,
                    "skipped": ChangeStatus.CANCELLED, "manual": ChangeStatus.PLANNED,
                    "scheduled": ChangeStatus.PLANNED, "blocked": ChangeStatus.PLANNED}


def parse_gitlab(body: Any, targets: list[str]) -> ChangeIn:
    data = _obj(body, "body")
    kind = data.get("object_kind")
    project = _obj(data.get("project") or {}, "project")
    user = _obj(data.get("user") or {}, "user")
    who = user.get("username") or user.get("name") or ""
    name = project.get("path_with_namespace") or project.get("name") or ""
    if kind == "pipeline":
        attrs = _obj(_need(data, "object_attributes", "body"), "object_attributes")
        pid = _need(attrs, "id", "object_attributes")
        commit = _obj(data.get("commit") or {}, "commit")
        status = _GITLAB_PIPELINE.get(str(attrs.get("status", "")), ChangeStatus.IN_PROGRESS)
        what = str(commit.get("title") or commit.get("message", "")).strip()
        return _build({
            "id": f"pipeline:{project.get('id', name)}:{pid}",
            "title": f"{name} pipeline #{pid} on {attrs.get('ref', '?')}" + (f": {what}" if what else ""),
            "kind": ChangeKind.DEPLOY, "service": project.get("name", ""), "targets": targets,
            "author": who, "status": status, "started_at": _gitlab_time(attrs.get("created_at")),
            "finished_at": _gitlab_time(attrs.get("finished_at")) if status.finished else None,
            "url": attrs.get("url") or (f"{project.get('web_url')}/-/pipelines/{pid}" if project.get("web_url")
                                        else ""),
            "revision": str(attrs.get("sha", ""))[:40], "environment": attrs.get("ref", ""),
            "description": commit.get("message", ""),
        }, "gitlab")
    if kind == "deployment":
        did = _need(data, "deployment_id", "body")
        status = {"running": ChangeStatus.IN_PROGRESS, "success": ChangeStatus.SUCCEEDED,
                  "failed": ChangeStatus.FAILED, "canceled": ChangeStatus.CANCELLED,
                  "created": ChangeStatus.PLANNED}.get(str(data.get("status", "")), ChangeStatus.IN_PROGRESS)
        when = _gitlab_time(data.get("status_changed_at"))
        env = data.get("environment", "")
        return _build({
            "id": f"deployment:{project.get('id', name)}:{did}",
            "title": f"deploy {name} {data.get('short_sha', '')} to {env}: {data.get('commit_title', '')}"
                     .strip().rstrip(":"),
            "kind": ChangeKind.DEPLOY, "service": project.get("name", ""), "targets": targets or ([env] if env else []),
            "author": who, "status": status, "started_at": when if status is not ChangeStatus.PLANNED else None,
            "finished_at": when if status.finished else None, "environment": env,
            "url": data.get("deployable_url", ""), "revision": data.get("short_sha", ""),
        }, "gitlab")
    raise ValidationFailed(f"gitlab: object_kind {kind!r} is not a change event; send Pipeline or Deployment events")


_JENKINS = {"SUCCESS": ChangeStatus.SUCCEEDED, "FAILURE": ChangeStatus.FAILED, "ABORTED": ChangeStatus.CANCELLED,
            "UNSTABLE": ChangeStatus.FAILED, "NOT_BUILT": ChangeStatus.CANCELLED}


def parse_jenkins(body: Any, targets: list[str], now: datetime | None = None) -> ChangeIn:
    data = _obj(body, "body")
    job = str(_need(data, "name", "body"))
    build = _obj(_need(data, "build", "body"), "build")
    number = _need(build, "number", "build")
    phase = str(build.get("phase", "")).upper()
    status = (ChangeStatus.IN_PROGRESS if phase in ("QUEUED", "STARTED")
              else _JENKINS.get(str(build.get("status", "")).upper(), ChangeStatus.SUCCEEDED))
    scm = _obj(build.get("scm") or {}, "build.scm")
    params = _obj(build.get("parameters") or {}, "build.parameters")
    return _build({
        "id": f"{job}#{number}", "title": f"{job} #{number}" + (f" ({scm['branch']})" if scm.get("branch") else ""),
        "kind": ChangeKind.DEPLOY, "service": job, "targets": targets or _split(params.get("TARGETS", "")),
        "author": params.get("TRIGGERED_BY", "") or params.get("AUTHOR", ""), "status": status,
        "started_at": now if phase in ("QUEUED", "STARTED") else None,
        "finished_at": now if status.finished else None,
        "url": build.get("full_url", ""), "revision": str(scm.get("commit", ""))[:40],
        "ticket": params.get("TICKET", ""), "rollback_plan": params.get("ROLLBACK_PLAN", ""),
        "environment": params.get("ENVIRONMENT", ""),
    }, "jenkins")


def _split(value: Any) -> list[str]:
    return [p.strip() for p in str(value).split(",") if p.strip()] if value else []


_ARGO = {"Running": ChangeStatus.IN_PROGRESS, "Succeeded": ChangeStatus.SUCCEEDED, "Failed": ChangeStatus.FAILED,
         "Error": ChangeStatus.FAILED, "Terminating": ChangeStatus.CANCELLED}


def parse_argocd(body: Any, targets: list[str]) -> ChangeIn:
    data = _obj(body, "body")
    app = _obj(_need(data, "app", "body"), "app")
    meta = _obj(_need(app, "metadata", "app"), "app.metadata")
    name = str(_need(meta, "name", "app.metadata"))
    spec = _obj(app.get("spec") or {}, "app.spec")
    dest = _obj(spec.get("destination") or {}, "app.spec.destination")
    op_state = _obj(_obj(app.get("status") or {}, "app.status").get("operationState") or {},
                    "app.status.operationState")
    started = op_state.get("startedAt")
    if not started:
        raise ValidationFailed("argocd: app.status.operationState.startedAt is missing (no sync to report)")
    sync = _obj(op_state.get("syncResult") or {}, "operationState.syncResult")
    operation = _obj(op_state.get("operation") or {}, "operationState.operation")
    initiated = _obj(operation.get("initiatedBy") or {}, "operation.initiatedBy")
    revision = str(sync.get("revision", ""))
    status = _ARGO.get(str(op_state.get("phase", "")), ChangeStatus.IN_PROGRESS)
    annotations = _obj(meta.get("annotations") or {}, "app.metadata.annotations")
    return _build({
        "id": f"{meta.get('namespace', '')}/{name}@{started}",
        "title": f"sync {name} to {revision[:12] or '?'} ({dest.get('namespace', '')})".replace(" ()", ""),
        "kind": ChangeKind.DEPLOY, "service": name,
        "targets": targets or _split(annotations.get("steadyops.io/targets", "")),
        "author": initiated.get("username", "") or ("automated" if initiated.get("automated") else ""),
        "status": status, "started_at": started, "finished_at": op_state.get("finishedAt") if status.finished else None,
        "environment": dest.get("namespace", "") or dest.get("name", ""), "revision": revision[:40],
        "ticket": annotations.get("steadyops.io/ticket", ""),
        "rollback_plan": annotations.get("steadyops.io/rollback-plan", ""),
        "description": str(op_state.get("message", "")),
    }, "argocd")


def parse_generic(body: Any, targets: list[str]) -> ChangeIn:
    data = _obj(body, "body")
    if targets:
        given = data.get("targets") or []  # not a list: left for validation to refuse (a 400, not a TypeError)
        data = {**data, "targets": [*given, *targets] if isinstance(given, list) else given}
    return _build(data, "generic")


def loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"body is not JSON: {exc}") from exc
