"""Remediation settings: who may approve what, and what each action may touch. Default deny."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from steadyops.durations import Duration
from steadyops.models import Risk


class PolicyRule(BaseModel):
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
            raise ValueError(f"mode {self.mode!r} needs an approvers list")
        return self

    @property
    def required(self) -> int:
        return {"auto": 0, "one": 1, "two": 2}[self.mode]


class AllowRule(BaseModel):
    """What an action may touch on a target: directory roots and exact command lines."""

    targets: list[str] = Field(default_factory=lambda: ["*"])
    actions: list[str] = Field(default_factory=lambda: ["*"])
    paths: list[str] = Field(default_factory=list, description="absolute directory roots")
    commands: list[list[str]] = Field(default_factory=list, description="exact argv lists")

    @model_validator(mode="after")
    def _absolute(self) -> AllowRule:
        for p in self.paths:
            if not p.startswith("/"):
                raise ValueError(f"allow-listed path {p!r} must be absolute")
            if ".." in Path(p).parts:
                raise ValueError(f"allow-listed path {p!r} must not contain '..'")
        return self


class RemediationConfig(BaseModel):
    approval_expiry: Duration = 1800.0
    policies: list[PolicyRule] = Field(default_factory=list)
    allow: list[AllowRule] = Field(default_factory=list)
    backup_dir: Path | None = None
    lock_ttl: Duration = 3600.0
    action_timeout: Duration = 600.0
    requester_may_approve: bool = False
