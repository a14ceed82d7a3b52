"""The auditor's pages: filter the log, export it as CSV, check the chain."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta

from flask import Blueprint, Response, render_template, request
from sqlalchemy import Select, func, select

from webapp.audit.forms import AuditFilterForm
from webapp.audit.models import AuditEvent
from webapp.audit.operations import event_rows, verify_chain
from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.core.db import db
from webapp.core.timeutil import beijing_datetime, format_beijing

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50


def _filtered(form: AuditFilterForm) -> Select:
    query = select(AuditEvent)
    if form.date_from.data:
        query = query.where(AuditEvent.at >= beijing_datetime(form.date_from.data, time(0)))
    if form.date_to.data:
        query = query.where(AuditEvent.at < beijing_datetime(form.date_to.data + timedelta(days=1), time(0)))
    if form.actor.data:
        query = query.where(AuditEvent.actor_name.contains(form.actor.data.strip()))
    if form.action.data:
        query = query.where(AuditEvent.action.startswith(form.action.data.strip()))
    if form.object.data:
        kind, _, ident = form.object.data.strip().partition(":")
        query = query.where(AuditEvent.object_type == kind)
        if ident:
            query = query.where(AuditEvent.object_id == ident)
    if form.result.data:
        query = query.where(AuditEvent.result == form.result.data)
    return query


@bp.route("/")
@roles_required(Role.auditor)
def index():
    form = AuditFilterForm(request.args)
    form.validate()
    query = _filtered(form) if not form.errors else select(AuditEvent)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    events = db.session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "audit/index.html", form=form, rows=event_rows(events), total=total, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), args=args,
    )


@bp.route("/export.csv")
@roles_required(Role.auditor)
def export():
    form = AuditFilterForm(request.args)
    form.validate()
    query = _filtered(form) if not form.errors else select(AuditEvent)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["编号", "时间（北京时间）", "操作人", "来源地址", "操作", "对象", "结果", "详情", "哈希"])
    for row in event_rows(db.session.scalars(query.order_by(AuditEvent.id))):
        writer.writerow(
            [row["id"], format_beijing(row["at"]), _csv_safe(row["actor"]), row["ip"], row["action"],
             _csv_safe(row["object"]), row["result"], _csv_safe(row["detail"]), row["hash"]]
        )
    body = "\ufeff" + buffer.getvalue()  # BOM so Excel on Chinese Windows reads UTF-8
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in user-controlled text."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


@bp.route("/verify")
@roles_required(Role.auditor)
def verify():
    return render_template("audit/verify.html", report=verify_chain())
