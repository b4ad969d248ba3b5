"""``steadyops tokens`` and ``steadyops users``: identities, through the API like every client command.

``tokens create`` prints the secret once; the server keeps only its hash. ``users`` covers people
(password and/or OIDC login) and service accounts (``--service``: tokens only, e.g. Alertmanager
with the ``ingest`` role).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steadyops.cli.common import call, fail, state
from steadyops.cli.output import FormatOption, OutputFormat, echo_json, fmt_time, render_table
from steadyops.config.durations import parse_duration
from steadyops.core.i18n import t

tokens = typer.Typer(help="API tokens: create, list, revoke. / API 令牌：创建、查看、吊销。", no_args_is_help=True)
users = typer.Typer(help="Users and service accounts (admin). / 用户与服务账号（管理员）。", no_args_is_help=True)

RoleOption = Annotated[str, typer.Option("--role", "-r",
                                         help="ingest, viewer, responder, approver, admin / 角色")]


@tokens.command("create")
def create_token(
    name: Annotated[str, typer.Option("--name", "-n", help="what it is for / 用途")] = "",
    role: Annotated[str, typer.Option("--role", "-r", help="scope, at most the owner's role / 权限范围")] = "",
    ttl: Annotated[str, typer.Option("--ttl", help="e.g. 30d, 12h (default: until revoked) / 有效期")] = "",
    owner: Annotated[str, typer.Option("--for", help="another user or service account (admin) / 所属账号")] = "",
    fmt: FormatOption = OutputFormat.TABLE,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the secret (for scripts) / 只输出密钥")]
    = False,
) -> None:
    """Create a token; the secret is shown this once. / 创建令牌（密钥只显示一次）。"""
    body: dict[str, Any] = {"name": name}
    if role:
        body["role"] = role
    if owner:
        body["owner"] = owner
    if ttl:
        try:
            body["ttl_seconds"] = parse_duration(ttl)
        except ValueError as exc:
            fail(str(exc))
    made = call("POST", "/api/v1/auth/tokens", json=body)
    if fmt is OutputFormat.JSON:
        echo_json(made)
        return
    if quiet:
        typer.echo(made["token"])
        return
    typer.echo(t("auth.token_created", state.lang, id=made["key"], owner=made["owner"], role=made["role"],
                 token=made["token"]))


@tokens.command("list")
def list_tokens(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Your tokens (every token for an admin). / 查看令牌。"""
    rows = call("GET", "/api/v1/auth/tokens")
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    typer.echo(render_table(["key", "owner", "role", "name", "expires", "revoked", "last used"],
                            [[r["key"], r["owner"], r["role"], r["name"], fmt_time(r["expires_at"]),
                              fmt_time(r["revoked_at"]), fmt_time(r["last_used_at"])] for r in rows]))


@tokens.command("revoke")
def revoke_token(key: Annotated[str, typer.Argument(help="the token's key (see tokens list) / 令牌编号")]) -> None:
    """Revoke a token at once. / 吊销令牌。"""
    call("DELETE", f"/api/v1/auth/tokens/{key}")
    typer.echo(t("auth.token_revoked", state.lang, id=key))


@users.command("create")
def create_user(
    name: Annotated[str, typer.Argument(help="user or service account name / 名称")],
    role: RoleOption = "viewer",
    service: Annotated[bool, typer.Option("--service", help="a service account (tokens only) / 服务账号")] = False,
    password: Annotated[bool, typer.Option("--password", help="prompt for a login password / 设置登录密码")] = False,
) -> None:
    """Create a user or a service account. / 创建用户或服务账号。"""
    body: dict[str, Any] = {"name": name, "role": role, "kind": "service" if service else "user"}
    if password:
        body["password"] = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    made = call("POST", "/api/v1/auth/principals", json=body)
    typer.echo(t("auth.principal_created", state.lang, kind=made["kind"], name=made["name"], role=made["role"]))


@users.command("list")
def list_users(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Users and service accounts. / 查看用户。"""
    rows = call("GET", "/api/v1/auth/principals")
    if fmt is OutputFormat.JSON:
        echo_json(rows)
        return
    typer.echo(render_table(["name", "kind", "role", "disabled", "password", "oidc"],
                            [[r["name"], r["kind"], r["role"], str(r["disabled"]), str(r["has_password"]),
                              str(r["oidc"])] for r in rows]))


@users.command("set")
def set_user(
    name: Annotated[str, typer.Argument(help="user or service account / 名称")],
    role: Annotated[str, typer.Option("--role", "-r", help="new role / 新角色")] = "",
    disable: Annotated[bool | None, typer.Option("--disable/--enable", help="stop all of its tokens / 停用")] = None,
    password: Annotated[bool, typer.Option("--password", help="prompt for a new password / 重设密码")] = False,
) -> None:
    """Change role, disable or enable, set a password. / 修改角色、停用、重设密码。"""
    body: dict[str, Any] = {}
    if role:
        body["role"] = role
    if disable is not None:
        body["disabled"] = disable
    if password:
        body["password"] = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not body:
        fail(t("cli.nothing_to_update", state.lang))
    row = call("PATCH", f"/api/v1/auth/principals/{name}", json=body)
    typer.echo(t("auth.principal_updated", state.lang, name=row["name"], role=row["role"],
                 disabled=row["disabled"]))


@users.command("whoami")
def whoami() -> None:
    """Who the token says you are. / 当前身份。"""
    me = call("GET", "/api/v1/auth/whoami")
    typer.echo(f"{me['name']} ({me['kind']}, {me['role']}) — {me['credential']}")
