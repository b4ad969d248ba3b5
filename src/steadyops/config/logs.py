"""Log-source declarations: which local files belong to which inventory target.

Only the declaration lives here, so ``Settings`` can name it without importing the tailer and the
template miner (``steadyops.sources.logs``) that read the files.
"""

from __future__ import annotations

import codecs

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["LogSource"]


class LogSource(BaseModel):
    """One configured log: a glob of local files that belong to one inventory target."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="glob of local files, e.g. /var/log/zookeeper/zookeeper*.log*")
    target: str = Field(min_length=1, description="inventory target these logs belong to")
    encoding: str = "utf-8"
    max_bytes: int = Field(default=5 * 1024 * 1024, gt=0, description="read at most this much of the newest data")

    @field_validator("encoding")
    @classmethod
    def _line_encoding(cls, v: str) -> str:
        try:
            codecs.lookup(v)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {v!r}") from exc
        if "\n".encode(v) != b"\n":  # lines are split on the byte 0x0A before decoding
            raise ValueError(f"encoding {v!r} does not write a newline as one byte (utf-8, gbk, latin-1 do)")
        return v
