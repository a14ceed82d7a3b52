"""``flask`` commands: seed data, first administrator, audit chain checks, upload folder upkeep.

Each command is its own unit of work: it commits once at the end, or not at all on error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webapp.core.db import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(users)
    app.cli.add_command(audit)
    app.cli.add_command(uploads)


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


uploads = AppGroup("uploads", help="上传文件维护。")


def _size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} 字节"


@uploads.command(
    "prune",
    help="删除没有任何记录引用的上传文件和遗留的临时文件；只处理修改时间早于宽限期的文件。",
)
@click.option(
    "--older-than",
    "hours",
    default=24,
    show_default=True,
    type=click.IntRange(min=1),
    help="宽限期（小时）：更新的文件可能正在上传，不处理",
)
@click.option("--dry-run", is_flag=True, help="只列出将删除的文件，不删除")
def uploads_prune(hours: int, dry_run: bool):
    from webapp.applications.operations import referenced_upload_hashes
    from webapp.applications.uploads import PruneRefused, prune_unreferenced
    from webapp.audit.operations import log_event

    # References first, then the walk: a file stored in between is inside the grace period.
    referenced = referenced_upload_hashes()
    # File times are wall-clock times, whatever the application's own clock says.
    cutoff = datetime.now(UTC) - timedelta(hours=hours)
    try:
        result = prune_unreferenced(
            Path(current_app.config["UPLOAD_DIR"]), referenced, cutoff, dry_run=dry_run
        )
    except PruneRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None

    if dry_run:
        for item in result.removed:
            what = "临时文件" if item.temporary else "文件"
            click.echo(f"将删除{what}：{item.path.as_posix()}（{_size(item.size)}）")
    for path in result.foreign:
        click.echo(f"无法识别，未处理：{path.as_posix()}")
    for path in result.failed:
        click.echo(f"无法删除：{path.as_posix()}", err=True)

    if result.removed and not dry_run:
        log_event(
            "uploads.prune",
            actor="命令行",
            detail={
                "removed": len(result.stored),
                "bytes": result.stored_bytes,
                "temporaries": len(result.temporaries),
                "temporary_bytes": result.temporary_bytes,
                "kept": result.kept,
                "young": result.young,
                "foreign": len(result.foreign),
                "failed": len(result.failed),
                "older_than_hours": hours,
            },
        )
        db.session.commit()

    verb = "将删除" if dry_run else "删除"
    parts = [
        f"未被引用的上传文件：{verb} {len(result.stored)} 个，共 {_size(result.stored_bytes)}；"
        f"保留 {result.kept} 个被引用的文件。",
        f"过期临时文件：{verb} {len(result.temporaries)} 个，共 {_size(result.temporary_bytes)}。",
    ]
    if result.young:
        parts.append(f"另有 {result.young} 个文件未满 {hours} 小时，暂不处理。")
    if result.foreign:
        parts.append(f"{len(result.foreign)} 项无法识别，未处理。")
    if result.failed:
        parts.append(f"{len(result.failed)} 个文件无法删除。")
    summary = "".join(parts)
    click.echo(f"【试运行，未删除任何文件】{summary}" if dry_run else summary)
    if result.failed:
        raise SystemExit(1)
