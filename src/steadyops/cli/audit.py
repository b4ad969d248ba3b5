"""``steadyops audit``: verify the audit log locally (no server needed) and export checkpoints.

Verification runs where the signing key is, against the database directly, so a tampered API
server cannot vouch for itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steadyops.cli.common import state
from steadyops.i18n import t
from steadyops.remediation.audit import AuditLog, load_key
from steadyops.store import Store

app = typer.Typer(help="Verify the tamper-evident audit log. / 审计日志校验。", no_args_is_help=True)


def _audit() -> AuditLog:
    settings = state.settings()
    return AuditLog(Store(settings.effective_database_url), load_key(settings.data_dir))


@app.command("verify")
def verify_cmd(
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help="a checkpoint file kept elsewhere")] = None,
) -> None:
    """Check every entry's hash, signature and chain link (and the checkpoint, if given)."""
    verdict = _audit().verify(checkpoint)
    lang = state.lang
    if verdict.ok:
        typer.echo(t("audit.ok", lang, n=verdict.entries, head=verdict.head[:16]))
        return
    typer.echo(t("audit.bad", lang, n=len(verdict.problems)), err=True)
    for p in verdict.problems:
        typer.echo(f"  #{p.seq}: {p.what}", err=True)
    raise typer.Exit(2)


@app.command("checkpoint")
def checkpoint_cmd(path: Path) -> None:
    """Export a signed checkpoint of the log's head; keep it where the database admin cannot edit it."""
    body = _audit().export_checkpoint(path)
    typer.echo(t("audit.checkpoint", state.lang, path=str(path), seq=body["seq"]))
