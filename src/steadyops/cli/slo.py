"""``steadyops slo``: generate burn-rate rules from SLO specs, and show error budgets.

``rules`` and ``validate`` work offline on spec files, like ``sloth generate`` and ``promtool``: a
rules file is an artefact of the specs and is best made in CI, where no server runs. ``status``
asks the server, which asks Prometheus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, fmt_time, render_table
from steadyops.core.errors import TransientError, ValidationFailed
from steadyops.core.i18n import t
from steadyops.operations.slo.rules import render_rules
from steadyops.operations.slo.rules_file import reload_prometheus, write_rules
from steadyops.operations.slo.spec import ServiceSpec, load_specs

app = typer.Typer(help="SLOs and error budgets. / 服务等级目标与错误预算。", no_args_is_help=True)

SpecsArg = Annotated[list[Path] | None, typer.Argument(help="spec files or directories (default: slo.specs) / "
                                                           "SLO 定义文件")]


def _specs(paths: list[Path] | None) -> list[ServiceSpec]:
    chosen = list(paths or state.settings().slo.specs)
    if not chosen:
        fail(t("slo.no_specs", state.lang))
    try:
        return load_specs(chosen)
    except ValidationFailed as exc:
        fail(str(exc))


def validate(specs: SpecsArg = None) -> None:
    """Check SLO spec files. / 校验 SLO 定义文件。"""
    loaded = _specs(specs)
    typer.echo(t("slo.valid", state.lang, services=len(loaded), slos=sum(len(s.slos) for s in loaded)))


def rules(
    specs: SpecsArg = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="rules file (default: slo.rules_file; "
                                                                       "- for stdout) / 输出文件")] = None,
    time_scale: Annotated[float, typer.Option("--time-scale", min=1, help="divide every window by this (tests "
                                                                          "and demos only) / 时间压缩倍数")] = 1.0,
    reload: Annotated[str, typer.Option("--reload", help="Prometheus URL to POST /-/reload to / 重载地址")] = "",
    require_check: Annotated[bool, typer.Option("--require-promtool", help="fail when promtool is missing / "
                                                                           "必须用 promtool 校验")] = False,
) -> None:
    """Generate recording and multi-window burn-rate alert rules. / 生成记录规则与多窗口燃烧率告警规则。"""
    loaded = _specs(specs)
    text = render_rules(loaded, time_scale=time_scale)
    target = output if output is not None else state.settings().slo.rules_file
    if target is None or str(target) == "-":
        typer.echo(text, nl=False)
        return
    try:
        written = write_rules(target, text, promtool=state.settings().slo.promtool, require_check=require_check)
    except ValidationFailed as exc:
        fail(str(exc))
    typer.echo(t("slo.rules_written", state.lang, path=written.path,
                 slos=sum(len(s.slos) for s in loaded)))
    typer.echo(t("slo.promtool_ok" if written.checked else "slo.promtool_missing", state.lang))
    if reload:
        try:
            reload_prometheus(reload)
        except TransientError as exc:
            fail(str(exc))
        typer.echo(t("slo.reloaded", state.lang, url=reload))


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def status(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Error budget remaining, burn rate and exhaustion date per SLO. / 各 SLO 的剩余错误预算。"""
    rows: list[dict[str, Any]] = call("GET", "/api/v1/slos")
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    lang = state.lang
    if not rows:
        typer.echo(t("slo.none", lang))
        return
    headers = [t(k, lang) for k in ("slo.col.id", "slo.col.objective", "slo.col.window", "slo.col.remaining",
                                     "slo.col.burn", "slo.col.exhaustion", "col.state")]
    typer.echo(render_table(headers, [
        [r["slo_id"], f"{r['objective']:g}%", r["window"], _pct(r["budget_remaining"]),
         "-" if r["burn_rate"] is None else f"{r['burn_rate']:.2f}x", fmt_time(r["exhaustion_at"]) or "-",
         t(f"slo.state.{r['state']}", lang)]
        for r in rows
    ]))


app.command("validate")(validate)
app.command("rules")(rules)
app.command("status")(status)
app.command("校验", hidden=True)(validate)
app.command("规则", hidden=True)(rules)
app.command("状态", hidden=True)(status)
