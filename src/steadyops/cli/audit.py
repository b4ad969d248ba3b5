"""``steadyops audit``: verify the audit log and export checkpoints.

``verify`` asks the server (``/api/v1/audit/verify``, with your token), so it checks the log the
platform actually writes. ``--local`` (implied by ``--checkpoint``) verifies where the signing key
is, against the database directly, so a tampered API server cannot vouch for itself; it says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steadyops.cli.common import call, state
from steadyops.core.i18n import t
from steadyops.remediation.audit import AuditLog
from steadyops.store import Store

app = typer.Typer(help="Verify the tamper-evident audit log. / 审计日志校验。", no_args_is_help=True)


def _audit() -> AuditLog:
    settings = state.settings()
    return AuditLog.configured(Store(settings.effective_database_url), settings.data_dir, settings.audit)


@app.command("verify")
def verify_cmd(
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help="a checkpoint file kept elsewhere")] = None,
    local: Annotated[bool, typer.Option("--local", help="verify this machine's database with its key, "
                                                         "not through the server / 本地校验")] = False,
) -> None:
    """Check every entry's hash, signature and chain link (and the checkpoint, if given)."""
    lang = state.lang
    if local or checkpoint is not None:
        typer.echo(t("auth.local_mode", lang, data_dir=state.settings().data_dir), err=True)
        verdict = _audit().verify(checkpoint)
        ok, entries, head, anchored = verdict.ok, verdict.entries, verdict.head, verdict.anchored_seq
        problems = [(p.seq, p.what) for p in verdict.problems]
    else:
        got = call("GET", "/api/v1/audit/verify")
        ok, entries, head, anchored = got["ok"], got["entries"], got["head"], got.get("anchored_seq")
        problems = [(p["seq"], p["what"]) for p in got["problems"]]
    if ok:
        typer.echo(t("audit.ok", lang, n=entries, head=head[:16]))
        typer.echo(t("audit.anchored", lang, seq=anchored if anchored is not None else "-"))
        return
    typer.echo(t("audit.bad", lang, n=len(problems)), err=True)
    for seq, what in problems:
        typer.echo(f"  #{seq}: {what}", err=True)
    raise typer.Exit(2)


@app.command("checkpoint")
def checkpoint_cmd(path: Path) -> None:
    """Export a signed checkpoint of the log's head; keep it where the database admin cannot edit it."""
    body = _audit().export_checkpoint(path)
    typer.echo(t("audit.checkpoint", state.lang, path=str(path), seq=body["seq"]))
