"""Writing a rules file Prometheus will load: checked by promtool first, replaced atomically.

Prometheus reloads whatever is at the path; a half-written or invalid file would make the reload
fail and, worse, an operator might not notice the SLO alerts are gone. So the new text goes to a
temporary file in the same directory, ``promtool check rules`` judges it there, and only then is
it renamed over the old file (a rename within one directory is atomic).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from steadyops.core.errors import TransientError, ValidationFailed


@dataclass(frozen=True)
class Written:
    path: Path
    checked: bool  # promtool judged it (False: promtool not installed, and not required)
    promtool_output: str


def promtool_check(path: Path, promtool: str = "promtool") -> str | None:
    """promtool's verdict on a rules file; ``None`` when promtool is not installed.

    Raises :class:`ValidationFailed` with promtool's own message when the file is invalid.
    """
    binary = shutil.which(promtool)
    if binary is None:
        return None
    done = subprocess.run([binary, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise ValidationFailed(f"promtool check rules refused the generated rules:\n{output}")
    return output


def write_rules(path: Path, text: str, *, promtool: str = "promtool", require_check: bool = False) -> Written:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        verdict = promtool_check(tmp, promtool)
        if verdict is None and require_check:
            raise ValidationFailed(f"{promtool!r} is not installed; cannot check the rules before writing them")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Written(path, verdict is not None, verdict or "")


def reload_prometheus(url: str, timeout: float = 10.0) -> None:
    """POST ``/-/reload`` (Prometheus must run with ``--web.enable-lifecycle``)."""
    try:
        resp = httpx.post(url.rstrip("/") + "/-/reload", timeout=timeout)
    except httpx.HTTPError as exc:
        raise TransientError(f"Prometheus reload failed: {type(exc).__name__}") from exc
    if not resp.is_success:
        raise TransientError(f"Prometheus reload failed: HTTP {resp.status_code} {resp.text[:300]}")
