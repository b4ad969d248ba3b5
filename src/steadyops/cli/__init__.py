"""The ``steadyops`` command: a typer app with one module per noun."""

from __future__ import annotations

import typer

from steadyops.cli import act, alerts, ask, audit, do, incidents, inspect, kb, mcp, plugins, serve, silences, worker
from steadyops.cli import canary as canary_cli
from steadyops.cli import changes as changes_cli
from steadyops.cli import login as login_cli
from steadyops.cli import oncall as oncall_cli
from steadyops.cli import reports as reports_cli
from steadyops.cli import slo as slo_cli
from steadyops.cli import tokens as tokens_cli
from steadyops.cli.common import state
from steadyops.cli.helpfmt import quiet_help_type

quiet_help_type()

app = typer.Typer(
    name="steadyops",
    help="steadyops — stability assurance for SRE teams (稳定性保障).",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root(
    lang: str = typer.Option("", "--lang", help="zh or en (default: from the locale)"),
    config: str = typer.Option("", "--config", "-c", envvar="STEADYOPS_CONFIG", help="path to steadyops.yaml"),
    server: str = typer.Option("", "--server", envvar="STEADYOPS_SERVER",
                               help="API base URL for client commands (default: http://host:port from config)"),
    token: str = typer.Option("", "--token", envvar="STEADYOPS_TOKEN",
                              help="API token (default: the one `steadyops login` saved for the server, else "
                                   "the server's first-start admin token in its data dir)"),
) -> None:
    state.lang_flag = lang
    state.config_path = config
    state.server_flag = server
    state.token_flag = token


serve.register(app)
worker.register(app)
plugins.register(app)
inspect.register(app)
do.register(app)
ask.register(app)
mcp.register(app)
app.add_typer(alerts.app, name="alerts")
app.add_typer(incidents.app, name="incidents")
app.add_typer(silences.app, name="silences")
app.add_typer(act.app, name="act")
app.add_typer(audit.app, name="audit")
app.add_typer(kb.app, name="kb")
app.add_typer(slo_cli.app, name="slo")
app.add_typer(changes_cli.app, name="change")
app.add_typer(changes_cli.app, name="变更", hidden=True)
app.add_typer(oncall_cli.app, name="oncall")
app.add_typer(oncall_cli.app, name="值班", hidden=True)
app.add_typer(reports_cli.app, name="report")
app.add_typer(reports_cli.app, name="报表", hidden=True)
app.add_typer(canary_cli.app, name="canary")
app.command("login")(login_cli.login)
app.command("logout")(login_cli.logout)
app.add_typer(tokens_cli.tokens, name="tokens")
app.add_typer(tokens_cli.users, name="users")
# Chinese nouns work too: `steadyops 事件 列表`, `steadyops 静默 添加 …`
app.add_typer(alerts.app, name="告警", help="= alerts（告警：发送、查看）")
app.add_typer(incidents.app, name="事件", help="= incidents（事件：列表、详情、认领、解决）")
app.add_typer(silences.app, name="静默", help="= silences（静默规则：添加、列表、失效）")


def main() -> None:
    app()
