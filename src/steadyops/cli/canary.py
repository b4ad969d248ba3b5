"""``steadyops canary compare BASELINE CANARY``: the A/B gate for two deployments' SLIs.

Works offline on two files (a CI job compares what its load test measured; no server needed), each
either JSON ``{"latency_ms": [...], "errors": 3, "requests": 8000, "quality": [...]}`` or plain text
with one latency in ms per line. Exit code: 0 pass, 1 fail, 3 inconclusive, 2 bad input — so
``steadyops canary compare a.json b.json && promote`` is the gate. See :mod:`steadyops.operations.canary`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from steadyops.cli.common import state
from steadyops.cli.output import OutputFormat, echo_json
from steadyops.core.i18n import t

if TYPE_CHECKING:  # scipy is imported when a comparison runs, not on every `steadyops` start (~1 s)
    from steadyops.operations.canary import Arm

app = typer.Typer(help="Canary / A-B comparison of two deployments. / 金丝雀 / A-B 对比。", no_args_is_help=True)


def load_arm(path: Path) -> Arm:
    """An arm from a JSON object or a one-number-per-line file; ValueError naming the problem."""
    from steadyops.operations.canary import Arm

    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return Arm(latencies_ms=[float(x) for x in data.get("latency_ms", [])], errors=int(data.get("errors", 0)),
                   requests=int(data.get("requests", 0)), quality=[float(x) for x in data.get("quality", [])])
    return Arm(latencies_ms=[float(line) for line in text.splitlines() if line.strip()])


@app.command("compare")
def compare_cmd(
    baseline: Annotated[Path, typer.Argument(help="baseline SLIs (JSON or one latency per line) / 基线")],
    canary: Annotated[Path, typer.Argument(help="canary SLIs / 金丝雀")],
    confidence: Annotated[float, typer.Option(help="confidence level / 置信度")] = 0.95,
    margin: Annotated[float, typer.Option(help="allowed p-quantile slow-down, 0.05 = 5 % / 允许的延迟劣化")] = 0.0,
    quantile: Annotated[float, typer.Option(help="latency quantile / 延迟分位")] = 0.95,
    error_margin: Annotated[float, typer.Option(help="allowed error-rate increase / 允许的错误率增加")] = 0.0,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Compare a canary with its baseline; exit 0 pass, 1 fail, 3 inconclusive. / 对比金丝雀与基线。"""
    from steadyops.operations.canary import EXIT_CODES, compare

    lang = state.lang
    try:
        arms = [load_arm(baseline), load_arm(canary)]
        result = compare(arms[0], arms[1], confidence=confidence, margin=margin, quantile=quantile,
                         error_margin=error_margin)
    except (OSError, ValueError) as exc:
        where = baseline if "baseline" in str(exc) else canary
        typer.echo(t("canary.bad_input", lang, path=where, error=exc), err=True)
        raise typer.Exit(2) from None
    if fmt is OutputFormat.JSON:
        echo_json(result.as_dict())
    else:
        typer.echo(t("canary.verdict", lang, verdict=t(f"canary.{result.verdict}", lang), confidence=confidence))
        for reason in result.reasons:
            typer.echo(f"  - {reason}")
    raise typer.Exit(EXIT_CODES[result.verdict])


__all__ = ["app", "load_arm"]
