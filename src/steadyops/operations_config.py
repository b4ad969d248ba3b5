"""Settings for the operating rhythm: SLOs, changes, on-call and periodic reports.

Kept apart from ``config.py`` (which only names these sections) so the four features can grow
their settings without every engineer's rebase touching the same lines.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class SLOSettings(BaseModel):
    specs: list[Path] = Field(default_factory=list, description="Sloth-format spec files or directories")
    rules_file: Path | None = Field(default=None, description="where `steadyops slo rules` writes by default")
    promtool: str = Field(default="promtool", description="promtool binary used to check rules before writing")
