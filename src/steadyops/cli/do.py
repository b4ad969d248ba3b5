"""``steadyops do "…"``: the on-call phrases (``zk检测``, ``巡检 redis``, ``磁盘清理 all``) without any LLM.

The deterministic grammar in :mod:`steadyops.agent.commands`, built from the loaded plugins, decides
the intent; this module only dispatches, each intent to the path that already owns it:

* ``inspect`` and a plugin's own phrase (``zk检测``: an inspection of its kind) run exactly like
  ``steadyops inspect`` (same scope, so the reports of ``巡检 redis`` and ``inspect --kind redis``
  are compared with each other; the kind's report sections, such as ZooKeeper's localisation, come
  with it);
* ``incidents`` asks the server, like ``steadyops incidents list``: incidents are the pipeline's
  state, and the server is its single owner (it may be on another machine or on PostgreSQL);
* ``disk_cleanup`` proposes, on each selected target, the cleanup action its plugin registered
  (``registry.add_cleanup``), through the API like ``steadyops act plan``, so the plan, the approval
  policy and the audit log apply unchanged — the CLI never deletes anything itself.

An unknown phrase exits 2 with the grammar's suggestions instead of guessing.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from steadyops.agent.commands import Command, Grammar, UnknownCommand
from steadyops.cli import inspect as inspect_cli
from steadyops.cli.act import _status_line as status_line
from steadyops.cli.act import parse_params, render_outcome, render_plan
from steadyops.cli.api_errors import render as render_api_error
from steadyops.cli.common import call, fail, state
from steadyops.cli.output import OutputFormat, echo_json, render_table
from steadyops.core.errors import ConfigError, ValidationFailed
from steadyops.core.i18n import t
from steadyops.core.inventory import Inventory, Target
from steadyops.plugins import Cleanup, Registry, load_plugins
from steadyops.remediation import demo


def grammar(registry: Registry | None = None) -> Grammar:
    """The ``do`` grammar of the plugins this installation loads (the server loads the same ones)."""
    return Grammar.from_registry(registry or load_plugins())


def _unknown(text: str, exc: UnknownCommand, examples: list[str]) -> NoReturn:
    lang = state.lang
    typer.echo(t("do.unknown", lang, text=text), err=True)
    if exc.suggestions:
        typer.echo(t("do.suggest", lang, items=" | ".join(exc.suggestions)), err=True)
    typer.echo(t("do.examples", lang, items=" | ".join(examples)), err=True)
    raise typer.Exit(2)


def _targets(cmd: Command) -> list[str]:
    return [cmd.target] if cmd.target and cmd.target != "all" else []


def _kind_command(cmd: Command, fmt: inspect_cli.ReportFormat, out: Path | None, progress: bool | None,
                  local: bool = False) -> int:
    """A plugin's phrase (``zk检测``): every check of its kind on all (or the addressed) targets of that
    kind; the report carries the kind's sections (ZooKeeper's: the localisation).

    Through the server by default (its inventory, its store); ``--local`` in this process."""
    from steadyops.reports.adhoc import looks_like_address
    from steadyops.reports.scope import match_targets

    lang, kind = state.lang, cmd.kind or ""
    wanted = _targets(cmd)
    where = t("do.at", lang, target=wanted[0]) if wanted else ""
    if not local:
        return inspect_cli.run_report(None, kinds=[kind], targets=wanted, fmt=fmt, out=out, progress=progress,
                                      on_empty=t("do.no_kind", lang, kind=kind, where=where))
    core = inspect_cli.open_local()
    try:
        of_kind = [tg.name for tg in core.inventory.targets.values() if tg.kind == kind]
        if wanted:
            of_kind = [name for name in match_targets(core.inventory, wanted[0]) if name in of_kind]
        if not of_kind and not (wanted and looks_like_address(wanted[0])):  # an address is inspected ad hoc
            fail(t("do.no_kind", lang, kind=kind, where=where), code=2)
        if not core.registry.checks_for(kind):
            fail(t("do.no_kind_checks", lang, kind=kind), code=2)
        return inspect_cli.run_report(core, kinds=[kind], targets=wanted, fmt=fmt, out=out, progress=progress)
    finally:
        core.close()


def _inspect(cmd: Command, fmt: inspect_cli.ReportFormat, out: Path | None, progress: bool | None,
             local: bool = False) -> int:
    if not local:
        return inspect_cli.run_report(None, kinds=[cmd.kind] if cmd.kind else [], targets=_targets(cmd),
                                      fmt=fmt, out=out, progress=progress)
    core = inspect_cli.open_local()
    try:
        return inspect_cli.run_report(core, kinds=[cmd.kind] if cmd.kind else [], targets=_targets(cmd), fmt=fmt,
                                      out=out, progress=progress)
    finally:
        core.close()


def _incidents(fmt: inspect_cli.ReportFormat) -> int:
    from steadyops.cli.incidents import list_incidents

    list_incidents(status="", limit=50, fmt=OutputFormat.JSON if fmt is inspect_cli.ReportFormat.JSON
                   else OutputFormat.TABLE)
    return 0


@dataclass
class CleanupResult:
    """One line of the final summary: what happened on one target."""

    target: str
    action: str
    result: str  # applied, pending, not_applied, nothing, skipped, failed
    bytes_freed: int = 0
    run_id: int | None = None
    note: str = ""


def fmt_bytes(n: int) -> str:
    """Binary units, as ``df -h`` and ``du -h`` show them, so the summary matches what operators check."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _try(method: str, path: str, **kwargs: Any) -> tuple[Any, str | None]:
    """Like ``common.call`` but a 4xx on one target is that target's failure, not the whole command's."""
    try:
        with state.client() as client:
            resp = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        fail(t("apierr.unreachable", state.lang, server=state.server(), reason=type(exc).__name__))
    if resp.status_code >= 400:
        try:
            body: Any = resp.json()
        except ValueError:
            body = resp.text
        return None, render_api_error(resp.status_code, body, state.lang)
    return resp.json(), None


def _select(cmd: Command, inventory: Inventory, registry: Registry) -> list[Target]:
    from steadyops.reports.scope import match_targets

    if cmd.target == "all":
        chosen = [tg for tg in inventory.targets.values() if tg.kind in registry.cleanups]
    else:
        chosen = [inventory.targets[n] for n in match_targets(inventory, cmd.target or "")]
    return [tg for tg in chosen if not cmd.kind or tg.kind == cmd.kind]


def cleanup_params(target: Target, cleanup: Cleanup, schema: dict[str, Any],
                   overrides: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Parameters from the target's labels (as its plugin's :class:`Cleanup` reads them), then ``--param``
    overrides the action accepts; and what is missing.

    Overrides are filtered by the action's own schema so one ``--param paths=…`` can serve a run
    over hosts and ZooKeepers alike without making the other action's validation fail.
    """
    props = schema.get("properties", {})
    params = {k: v for k, v in cleanup.params(target).items() if k in props}
    params.update({k: v for k, v in overrides.items() if k in props})
    missing = [name for name in schema.get("required", []) if name not in params]
    return params, missing


def _confirm_and_apply(run: dict[str, Any], yes: bool, quiet: bool) -> CleanupResult:
    """The same confirmation flow as ``act plan``: an auto-approved plan still asks unless ``--yes``."""
    result = CleanupResult(target=run["target"], action=run["action"], result="pending", run_id=run["id"])
    if run["status"] != "approved":
        if not quiet:
            typer.echo(t("do.cleanup_pending", state.lang, id=run["id"]))
        return result
    if not run["plan"]["steps"]:
        result.result = "nothing"
        return result
    if not yes:
        if quiet or not sys.stdin.isatty():
            if not quiet:
                typer.echo(t("act.confirm_hint", state.lang, id=run["id"]))
            result.result = "not_applied"
            return result
        if not typer.confirm(t("act.confirm", state.lang), default=False):
            result.result = "not_applied"
            return result
    outcome, error = _try("POST", f"/api/v1/actions/{run['id']}/apply", json={})
    if error is not None:
        result.result, result.note = "failed", error
    else:
        if not quiet:
            typer.echo(render_outcome(outcome))
        result.result = "applied" if outcome["ok"] else "failed"
        result.bytes_freed = int(outcome.get("bytes_freed", 0))
        result.note = "" if outcome["ok"] else outcome["summary"]
    return result


def _one(target: Target, registry: Registry, catalog: dict[str, dict[str, Any]], overrides: dict[str, Any],
         yes: bool, quiet: bool) -> CleanupResult:
    lang = state.lang
    cleanup = registry.cleanup_for(target.kind)
    action = cleanup.action if cleanup else ""
    skipped = CleanupResult(target=target.name, action=action or "-", result="skipped")
    if not action:
        skipped.note = t("do.cleanup_no_action", lang, kind=target.kind)
    elif action not in catalog:
        skipped.note = t("do.cleanup_unavailable", lang, action=action)
    if skipped.note or cleanup is None:
        return skipped
    params, missing = cleanup_params(target, cleanup, catalog[action].get("params_schema", {}), overrides)
    if missing:
        skipped.note = t("do.cleanup_missing", lang, fields=", ".join(missing))
        return skipped
    run, error = _try("POST", "/api/v1/actions", json={"action": action, "target": target.name, "params": params})
    if error is not None:
        return CleanupResult(target=target.name, action=action, result="failed", note=error)
    if not quiet:
        typer.echo(render_plan(run))
        typer.echo(status_line(run))
    return _confirm_and_apply(run, yes, quiet)


def render_summary(results: list[CleanupResult]) -> str:
    lang = state.lang
    headers = [t(k, lang) for k in ("act.col.target", "act.col.action", "do.col.result", "do.col.freed",
                                    "col.detail")]
    rows = [[r.target, r.action, t(f"do.result.{r.result}", lang),
             f"{fmt_bytes(r.bytes_freed)} ({r.bytes_freed})" if r.bytes_freed else "-",
             r.note or (f"#{r.run_id}" if r.run_id is not None else "")] for r in results]
    total = sum(r.bytes_freed for r in results)
    hosts = sum(1 for r in results if r.bytes_freed)
    return "\n".join([t("do.cleanup_summary", lang), render_table(headers, rows, max_width=90),
                      t("do.cleanup_total", lang, human=fmt_bytes(total), bytes=total, hosts=hosts)])


def disk_cleanup(cmd: Command, registry: Registry, *, params: list[str], yes: bool, as_json: bool) -> int:
    """Plan a cleanup on every selected target through the API, apply what policy and operator allow.

    Exit 0 when every target was planned (applied or waiting for approval), 1 when any failed or was
    skipped, 2 when nothing at all could be proposed.
    """
    lang = state.lang
    if cmd.target is None:
        fail(t("do.cleanup_need_target", lang), code=2)
    try:
        inventory = demo.add_target(Inventory.load(state.settings().inventory), state.settings(), registry)
    except ConfigError as exc:
        fail(str(exc), code=2)
    targets = _select(cmd, inventory, registry)
    if not targets:
        fail(t("do.cleanup_no_match", lang, target=cmd.target), code=2)
    overrides = parse_params(params)
    catalog = {c["name"]: c for c in call("GET", "/api/v1/actions/catalog")}
    results = []
    for target in targets:
        result = _one(target, registry, catalog, overrides, yes, as_json)
        if not as_json and result.result in ("skipped", "failed"):
            typer.echo(f"{target.name}: {t(f'do.result.{result.result}', lang)} — {result.note}")
        if not as_json:
            typer.echo("")
        results.append(result)
    if as_json:
        echo_json([asdict(r) for r in results])
    else:
        typer.echo(render_summary(results))
    if all(r.result in ("skipped", "failed") for r in results):
        return 2
    return 1 if any(r.result in ("skipped", "failed") for r in results) else 0


def register(app: typer.Typer) -> None:
    @app.command("do")
    def do_cmd(
        words: Annotated[list[str], typer.Argument(help='e.g. "zk检测", "巡检 redis", "磁盘清理 all", "事件列表"')],
        fmt: inspect_cli.FormatOpt = inspect_cli.ReportFormat.TABLE,
        out: inspect_cli.OutOpt = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="apply auto-approved cleanup plans without asking")]
        = False,
        param: Annotated[list[str] | None, typer.Option("--param", "-p",
                                                        help="key=value for cleanup actions that accept it")] = None,
        lang: inspect_cli.LangOpt = "",
        progress: inspect_cli.ProgressOpt = None,
        local: inspect_cli.LocalOpt = False,
    ) -> None:
        """Run an on-call phrase: 巡检 / zk检测 / 磁盘清理 / 事件列表 (zh or en). / 自然语言运维指令。"""
        if lang:
            state.lang_flag = lang
        raise typer.Exit(run_command(" ".join(words), fmt=fmt, out=out, yes=yes, params=param or [],
                                     progress=progress, local=local))


def run_command(text: str, *, fmt: inspect_cli.ReportFormat = inspect_cli.ReportFormat.TABLE,
                out: Path | None = None, yes: bool = False, params: list[str] | None = None,
                progress: bool | None = None, local: bool = False) -> int:
    """Parse and run one phrase; the exit code. Shared by ``steadyops do`` and ``steadyops ask``.
    ``local``: inspections run in this process (offline); everything else always asks the server."""
    registry = load_plugins()
    words = grammar(registry)
    try:
        cmd = words.parse(text)
    except UnknownCommand as exc:
        _unknown(text, exc, words.examples)
    except ValidationFailed as exc:
        fail(str(exc), code=2)
    if cmd.intent == "inspect":
        return _inspect(cmd, fmt, out, progress, local)
    if cmd.intent == "incidents":
        return _incidents(fmt)
    if cmd.intent == "disk_cleanup":
        return disk_cleanup(cmd, registry, params=params or [], yes=yes, as_json=fmt is inspect_cli.ReportFormat.JSON)
    return _kind_command(cmd, fmt, out, progress, local)
