"""``flask`` commands: seed data, first administrator, audit chain checks.

Each command is its own unit of work: it commits once at the end, or not at all on error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webapp.core.db import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(users)
    app.cli.add_command(audit)


seed = AppGroup("seed", help="载入参考数据和演示数据。")


@seed.command("units", help="载入 47 个申报单位（seeds/units.csv，可重复执行）。")
def seed_units():
    from webapp.units.operations import load_units

    path = Path(current_app.config["SEEDS_DIR"]) / "units.csv"
    created, updated = load_units(path)
    db.session.commit()
    click.echo(f"申报单位：新增 {created} 个，更新 {updated} 个。")


@seed.command("demo", help="建立 2014 年度演示活动和各角色演示账户，并打印登录信息。")
def seed_demo():
    from webapp.seed import DemoError, build_demo

    try:
        summary = build_demo()
    except DemoError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(summary)


users = AppGroup("users", help="账户管理。")


@users.command("create-admin", help="为新安装的系统创建第一个系统管理员账户。")
@click.argument("username")
@click.option("--name", "display_name", default="系统管理员", help="显示的姓名")
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码", help="初始密码")
def create_admin(username: str, display_name: str, password: str):
    from webapp.auth.models import Role
    from webapp.auth.operations import AccountError, create_user

    try:
        create_user(
            username=username,
            display_name=display_name,
            password=password,
            role=Role.sysadmin,
            must_change_password=False,
            actor="命令行",
        )
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException("\n".join(exc.problems)) from None
    db.session.commit()
    click.echo(f"已创建系统管理员 {username}。")


audit = AppGroup("audit", help="审计日志。")


@audit.command("verify", help="逐条重算审计日志的哈希链，发现删改时以状态 1 退出。")
def audit_verify():
    from webapp.audit.operations import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"审计链完整：共 {report.rows} 条，链头 {report.head}")
        return
    click.echo(f"审计链被破坏：第 {report.first_bad_id} 号记录，{report.problem}", err=True)
    raise SystemExit(1)


@audit.command("prune", help="删除早于指定日期（UTC）的审计记录；保留期内的记录不能删除。")
@click.option("--before", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
def audit_prune(before: datetime):
    from webapp.audit.operations import prune_before

    try:
        deleted = prune_before(before.replace(tzinfo=UTC), retention_days=current_app.config["AUDIT_RETENTION_DAYS"])
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"已删除 {deleted} 条审计记录。")
