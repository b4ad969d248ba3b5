"""``steadyops inspect``: run the checks now and print or write the report.

One client path: the server runs the inspection (``POST /api/v1/inspections`` with your token),
so the run, its findings and the alerts they raise land in the one store the server reads, and
the report is fetched back and rendered here. ``--local`` runs the checks in this process on this
machine's data dir instead (offline, e.g. on a host with no server), says so, and shows progress on
stderr when stderr is a terminal, so ``--format json > run.json`` and cron stay clean.

Exit codes (for cron jobs and CI gates):

* 0 — every check OK
* 1 — at least one WARNING, nothing worse
* 2 — at least one CRITICAL or UNKNOWN (a check that could not answer is never "fine"), nothing
  was selected to inspect, or the command line was wrong
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from steadyops.cli.common import call, fail, request, state
from steadyops.cli.output import render_table
from steadyops.core.errors import ConfigError
from steadyops.core.i18n import MESSAGES, Lang, t
from steadyops.core.models import Finding
from steadyops.core.summaries import in_lang as summary_in_lang

if TYPE_CHECKING:
    from steadyops.app import App
    from steadyops.reports import InspectionReport
    from steadyops.runner.checks import Job


class ReportFormat(StrEnum):
    TABLE = "table"
    MD = "md"
    HTML = "html"
    JSON = "json"


FormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="table, md, html or json / 报告格式")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="write the report to this file / 输出到文件")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh or en (overrides the global --lang) / 语言")]
ProgressOpt = Annotated[bool | None, typer.Option("--progress/--no-progress",
                                                  help="progress on stderr (default: when it is a terminal)")]

LocalOpt = Annotated[bool, typer.Option("--local", help="offline: run the checks in this process on this "
                                                       "machine's data dir, without the server / 离线巡检")]

Progress = Callable[[Finding], None]


def local_app() -> App:
    """The in-process App an inspection runs in; tests replace this to inject fake checks."""
    from steadyops.app import build_app

    try:
        return build_app(state.settings())
    except ConfigError as exc:
        fail(str(exc), code=2)


def open_local() -> App:
    """The App for an explicit ``--local`` run, announced on stderr (the server does not see it)."""
    core = local_app()
    typer.echo(t("auth.local_mode", state.lang, data_dir=core.settings.data_dir), err=True)
    return core


@contextlib.contextmanager
def progress_reporter(total: int, mode: bool | None) -> Iterator[Progress | None]:
    """A click progress bar on a terminal; plain ``[n/N]`` lines when forced on a pipe; else nothing."""
    interactive = sys.stderr.isatty()
    if mode is False or (mode is None and not interactive) or total == 0:
        yield None
        return
    label = t("inspect.progress", state.lang)
    if interactive:
        with typer.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
            yield lambda _finding: bar.update(1)
        return
    done = 0

    def line(finding: Finding) -> None:
        nonlocal done
        done += 1
        typer.echo(f"{label} [{done}/{total}] {finding.status.value:<8} {finding.check} @ {finding.target}", err=True)

    yield line


async def _inspect(app: App, jobs: Sequence[Job], scope: dict[str, object], trigger: str,
                   progress: bool | None) -> int:
    with progress_reporter(len(jobs), progress) as report_progress:
        run_id, _findings = await app.checks.inspect(jobs, trigger=trigger, scope=scope, progress=report_progress)
    return run_id


def status_text(status: str, lang: Lang) -> str:
    return t(f"check.status.{status}", lang)


def layer_text(layer: str, lang: Lang) -> str:
    """Known layers are translated; a plugin's own layer name is shown as it is."""
    key = f"report.layer.{layer}"
    return t(key, lang) if key in MESSAGES else (layer or "-")


def render_terminal(report: InspectionReport, lang: Lang) -> str:
    """The terminal view: headline, what changed, then only the problems (a sweep has many OK checks)."""
    counts = " · ".join(f"{status_text(k, lang)} {report.counts[k]}" for k in ("critical", "warning", "unknown", "ok"))
    title = t("report.title", lang, id=report.run_id) if report.run_id is not None else t("report.title_adhoc", lang)
    coverage = t("report.coverage", lang, targets=len(report.targets), checks=len(report.findings))
    colon, left, right = ("：", "（", "）") if lang == "zh" else (": ", " (", ")")
    lines = [f"{title}{colon}{status_text(report.status.value, lang)} — {counts}{left}{coverage}{right}"]
    if report.diff is None:
        lines.append(t("report.first_run", lang))
    else:
        moved = " · ".join(f"{t(f'report.change.{k}', lang)} {len(report.diff.of(k))}"
                           for k in ("new_failure", "recovered", "changed", "still_failing"))
        lines.append(t("report.compared_with", lang, id=report.diff.previous_run_id,
                       at=report.diff.previous_started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")) + " " + moved)
    if not report.findings:
        lines.append(t("report.empty", lang))
    failing = report.failing
    if failing:
        headers = [t(k, lang) for k in ("report.col.status", "report.col.target", "report.col.check",
                                        "report.col.summary", "report.col.layer")]
        rows = [[status_text(f.status.value, lang), f.target, f.check, summary_in_lang(f.summary, lang),
                 layer_text(f.layer, lang)] for f in failing]
        lines += ["", render_table(headers, rows, max_width=80)]
    ok = report.counts.get("ok", 0)
    if ok:
        lines += ["", t("inspect.ok_count", lang, count=ok)]
    for section in report.sections:
        lines += ["", f"== {section.title[lang]} ==", section.body[lang]]
    return "\n".join(lines)


def render_output(report: InspectionReport, fmt: ReportFormat, lang: Lang) -> str:
    from steadyops.reports import render

    if fmt is ReportFormat.TABLE:
        return render_terminal(report, lang)
    return render(report, fmt.value, lang, tz=datetime.now().astimezone().tzinfo)


def remote_report(*, kinds: Sequence[str], targets: Sequence[str], checks: Sequence[str],
                  trigger: str = "cli") -> InspectionReport | str:
    """Ask the server to inspect: its report, or the server's reason why the scope selects nothing."""
    from steadyops.reports import InspectionReport

    body = {"kinds": list(kinds), "targets": [x for x in targets if x and x != "all"], "checks": list(checks),
            "trigger": trigger}
    status, made = request("POST", "/api/v1/inspections", json=body)
    if status >= 400 and status not in (400, 404, 422):  # a refusal, not an empty scope
        fail(f"HTTP {status}: {(made or {}).get('detail', '')}")
    if status >= 400:
        return str((made or {}).get("detail", status))
    data = call("GET", f"/api/v1/inspections/{made['run']['id']}/report", params={"format": "json"})
    return InspectionReport.model_validate(data)


def run_report(app: App | None, *, kinds: Sequence[str] = (), targets: Sequence[str] = (), checks: Sequence[str] = (),
               fmt: ReportFormat = ReportFormat.TABLE, out: Path | None = None, progress: bool | None = None,
               trigger: str = "cli", on_empty: str = "") -> int:
    """Run the scope (on the server, or in ``app`` for ``--local``), render the report; returns the exit
    code. Shared by ``do``."""
    from steadyops.reports import ScopeError, exit_code, load_report, resolve_scope

    lang = state.lang
    if app is None:
        remote = remote_report(kinds=kinds, targets=targets, checks=checks, trigger=trigger)
        if isinstance(remote, str):  # the server's scope selects nothing: an address is probed ad hoc here
            report = _adhoc_here(kinds, targets, checks)
            if report is None:
                fail(f"{on_empty} ({remote})" if on_empty else t("inspect.nothing", lang, why=remote), code=2)
        else:
            report = remote
    else:
        try:
            scope, jobs = resolve_scope(app.checks, kinds=kinds, targets=targets, checks=checks)
        except ScopeError as exc:
            unmatched = getattr(exc, "key", "") in ("scope.unknown_target", "scope.no_targets")
            report = _adhoc(app, unmatched, kinds, targets, checks)
            if report is None:
                fail(t("inspect.nothing", lang, why=exc.localised(lang)), code=2)
        else:
            run_id = asyncio.run(_inspect(app, jobs, scope.as_dict(), trigger, progress))
            report = load_report(app.store, run_id, inventory=app.inventory, sections=app.registry.sections())
    text = render_output(report, fmt, lang)
    if out is None:
        typer.echo(text)
    else:
        try:
            out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as exc:
            fail(t("cli.cannot_read", lang, path=out, reason=exc.strerror or exc), code=2)
        typer.echo(t("inspect.written", lang, path=out, status=status_text(report.status.value, lang)), err=True)
    return exit_code(report.status)


def _adhoc_here(kinds: Sequence[str], targets: Sequence[str], checks: Sequence[str]) -> InspectionReport | None:
    """The server's inventory has no such target: probe an address ad hoc from this machine (read-only,
    recorded nowhere, so nothing of the platform's state is read or changed)."""
    from steadyops.reports.adhoc import looks_like_address

    wanted = [v.strip() for v in targets if v.strip() and v.strip().lower() not in ("all", "*")]
    if len(kinds) != 1 or len(wanted) != 1 or checks or not looks_like_address(wanted[0]):
        return None
    core = local_app()
    try:
        return _adhoc(core, True, kinds, targets, checks)
    finally:
        core.close()


def _adhoc(app: App, unmatched: bool, kinds: Sequence[str], targets: Sequence[str],
           checks: Sequence[str]) -> InspectionReport | None:
    """``inspect zookeeper 127.0.0.1`` for an address not in the inventory: read-only checks, not recorded."""
    from steadyops.reports.adhoc import adhoc_report, inspect_address, looks_like_address

    wanted = [v.strip() for v in targets if v.strip() and v.strip().lower() not in ("all", "*")]
    if not unmatched or len(kinds) != 1 or len(wanted) != 1 or checks:
        return None
    kind = app.registry.kind_of(kinds[0])
    if not looks_like_address(wanted[0]) or not app.registry.checks_for(kind):
        return None
    typer.echo(t("inspect.adhoc", state.lang, address=wanted[0], kind=kind), err=True)
    findings = asyncio.run(inspect_address(app.checks, app.inventory, kind, wanted[0]))
    return adhoc_report(findings, app.inventory, wanted[0], app.registry.sections())


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect_cmd(
        kind: Annotated[list[str] | None, typer.Option("--kind", "-k", help="redis, zookeeper, host … (repeat)")]
        = None,
        target: Annotated[str, typer.Option("--target", "-t", help="a name, an address, or all / 目标")] = "all",
        check: Annotated[list[str] | None, typer.Option("--check", help="only these checks (repeat) / 检查项")] = None,
        fmt: FormatOpt = ReportFormat.TABLE,
        out: OutOpt = None,
        lang: LangOpt = "",
        progress: ProgressOpt = None,
        local: LocalOpt = False,
    ) -> None:
        """Run an inspection now and report it. Exit 0 OK, 1 warnings, 2 critical/unknown. / 立即巡检并出报告。"""
        if lang:
            state.lang_flag = lang
        core = open_local() if local else None
        try:
            code = run_report(core, kinds=kind or [], targets=[target], checks=check or [], fmt=fmt, out=out,
                              progress=progress)
        finally:
            if core is not None:
                core.close()
        raise typer.Exit(code)
