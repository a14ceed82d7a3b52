"""Office pages for targets and the national dashboard; spot checks for the office and inspectors."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from webapp.applications.models import Application, ApplicationStatus
from webapp.audit.operations import log_event
from webapp.auth.models import Role, User
from webapp.auth.permissions import roles_required
from webapp.campaigns.models import Campaign, ProgramKind
from webapp.campaigns.queries import get_campaign_or_404, get_program_or_404
from webapp.core.db import db
from webapp.core.timeutil import format_beijing, now
from webapp.inspection.models import CheckStatus, SpotCheck, SpotCheckEntry, UnitTarget
from webapp.inspection.operations import (
    InspectionError,
    adjust_target,
    allocate_targets,
    assign_inspector,
    can_inspect,
    create_spot_check,
    criticism_candidates,
    effective_new,
    import_targets,
    national_target,
    record_check,
    set_national_target,
    spot_check_of,
    unit_targets,
)
from webapp.units.models import Unit, UnitCategory
from webapp.web.files import send_stored

bp = Blueprint("inspection", __name__)
LIVE = (ApplicationStatus.submitted, ApplicationStatus.passed, ApplicationStatus.returned)


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


def _flash(problems):
    for problem in problems:
        flash(problem, "danger")


def _int(text: str | None, name: str) -> int:
    try:
        value = int((text or "").replace(",", "").strip())
    except ValueError:
        raise InspectionError([_("%(name)s应填写整数。", name=name)]) from None
    return value


def _ratio(text: str | None, name: str) -> Decimal:
    try:
        value = Decimal((text or "").replace("%", "").strip()) / 100
    except InvalidOperation:
        raise InspectionError([_("%(name)s应填写百分数，如 25。", name=name)]) from None
    return value


# ---------------------------------------------------------------- targets


@bp.route("/campaigns/<int:campaign_id>/targets", methods=["GET", "POST"])
@roles_required(Role.office)
def targets(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    units = sorted(db.session.scalars(select(Unit)).all(), key=lambda u: u.sort_key)
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        actor = current_user._get_current_object()
        action = request.form.get("action")
        try:
            if action == "national":
                set_national_target(
                    campaign,
                    new_kexie=_int(request.form.get("new_kexie"), _("新建企业科协目标")),
                    liaison=_int(request.form.get("liaison"), _("联系人制度目标")),
                    park_coverage=_ratio(request.form.get("park_coverage"), _("园区覆盖率")),
                    national_park_coverage=_ratio(
                        request.form.get("national_park_coverage"), _("国家级园区覆盖率")
                    ),
                    baseline_coverage=_ratio(request.form.get("baseline_coverage"), _("覆盖率起点")),
                    actor=actor,
                )
                flash(_("全国目标已保存。"), "success")
            elif action == "allocate":
                basis = {}
                for unit in units:
                    text = (request.form.get(f"basis-{unit.code}") or "").strip()
                    if text:
                        basis[unit.code] = _int(text, _("%(unit)s的规模以上工业企业数", unit=unit.name))
                allocate_targets(campaign, basis=basis, actor=actor)
                flash(_("已按规模以上工业企业数分配任务（最大余额法，合计等于全国目标）。"), "success")
            elif action == "import":
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    raise InspectionError([_("请选择要导入的 XLSX 或 CSV 文件。")])
                count = import_targets(campaign, stream=upload.stream, filename=upload.filename, actor=actor)
                flash(_("已导入 %(n)s 个单位的任务。", n=count), "success")
            elif action == "adjust":
                target = db.session.get(UnitTarget, request.form.get("target_id", type=int))
                if target is None or target.campaign_id != campaign.id:
                    abort(404)
                adjust_target(
                    target,
                    task_new=_int(request.form.get("task_new"), _("新建任务")),
                    task_liaison=_int(request.form.get("task_liaison"), _("联系人任务")),
                    reason=request.form.get("reason", ""),
                    actor=actor,
                )
                flash(_("已调整 %(unit)s 的任务。", unit=target.unit.name), "success")
        except InspectionError as exc:
            db.session.rollback()
            _flash(exc.problems)
        return redirect(url_for("inspection.targets", campaign_id=campaign.id))
    current = unit_targets(campaign)
    national = national_target(campaign)
    sums = (sum(t.task_new_kexie for t in current.values()), sum(t.task_liaison for t in current.values()))
    return render_template(
        "inspection/targets.html",
        campaign=campaign,
        units=units,
        targets=current,
        national=national,
        sums=sums,
        confirm=ConfirmForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/targets/template.xlsx")
@roles_required(Role.office)
def targets_template(campaign_id: int):
    from webapp.inspection.targets_import import targets_template as template

    get_campaign_or_404(campaign_id)
    return send_file(
        BytesIO(template()),
        as_attachment=True,
        download_name="任务分配导入模板.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ---------------------------------------------------------------- dashboard


def _unit_application(campaign: Campaign) -> dict[int, Application]:
    """Each unit's submitted application (post-subsidy preferred) — the figures the dashboard counts."""
    chosen: dict[int, Application] = {}
    for program in sorted(campaign.programs, key=lambda p: p.kind != ProgramKind.post_subsidy):
        for application in db.session.scalars(
            select(Application).where(Application.program_id == program.id, Application.status.in_(LIVE))
        ):
            chosen.setdefault(application.unit_id, application)
    return chosen


def _num(value) -> int | None:
    return None if value is None else int(value)


def progress_rows(campaign: Campaign):
    from webapp.inspection.dashboard_export import UnitProgress

    apps = _unit_application(campaign)
    candidates = {c.application.id: "；".join(c.reasons) for c in criticism_candidates(campaign)}
    rows = []
    for unit in sorted(db.session.scalars(select(Unit)).all(), key=lambda u: u.sort_key):
        application = apps.get(unit.id)
        values = application.figure_values() if application else {}
        eff = effective_new(application) if application else None
        rows.append(
            UnitProgress(
                code=unit.code,
                name=unit.name,
                category=UnitCategory(unit.category).label,
                status=application.status_label if application else "未申报",
                regulated=_num(values.get("regulated_enterprises")),
                kexie_total=_num(values.get("enterprise_kexie_total")),
                kexie_new=_num(values.get("enterprise_kexie_new")),
                task_new=_num(values.get("task_new_kexie")),
                liaison=_num(values.get("liaison_enterprises")),
                task_liaison=_num(values.get("task_liaison")),
                parks=_num(values.get("parks_total")),
                parks_with=_num(values.get("parks_with_kexie")),
                national_parks=_num(values.get("national_parks_total")),
                national_parks_with=_num(values.get("national_parks_with_kexie")),
                verified_rate=eff.verified_rate if eff else None,
                effective_new=_num(eff.effective) if eff and eff.effective is not None else None,
                flags=candidates.get(application.id, "") if application else "",
            )
        )
    return rows


def _sum(rows, name) -> int:
    return sum(getattr(r, name) or 0 for r in rows)


def gauges(campaign: Campaign, rows):
    from webapp.inspection.dashboard_charts import Gauge

    national = national_target(campaign)
    if national is None:
        return []
    parks, parks_with = _sum(rows, "parks"), _sum(rows, "parks_with")
    nparks, nparks_with = _sum(rows, "national_parks"), _sum(rows, "national_parks_with")
    regulated, total = _sum(rows, "regulated"), _sum(rows, "kexie_total")

    def ratio(a, b):
        return Decimal(a) / Decimal(b) if b else Decimal(0)

    return [
        Gauge(
            _("新建企业科协"),
            Decimal(sum(r.effective_new or 0 for r in rows)),
            Decimal(national.new_kexie),
            "个",
        ),
        Gauge(_("建立科协联系人制度的企业"), Decimal(_sum(rows, "liaison")), Decimal(national.liaison), "家"),
        Gauge(_("园区科协覆盖率"), ratio(parks_with, parks), national.park_coverage, "%"),
        Gauge(_("国家级园区科协覆盖率"), ratio(nparks_with, nparks), national.national_park_coverage, "%"),
        Gauge(_("企业科协覆盖率（起点 6.1%）"), ratio(total, regulated), national.baseline_coverage, "%"),
    ]


SORTS = {
    "code": lambda r: r.code,
    "new": lambda r: (r.kexie_new or 0) / (r.task_new or 1),
    "liaison": lambda r: (r.liaison or 0) / (r.task_liaison or 1),
    "coverage": lambda r: (r.kexie_total or 0) / (r.regulated or 1),
}


@bp.route("/campaigns/<int:campaign_id>/dashboard")
@roles_required(Role.office)
def dashboard(campaign_id: int):
    from webapp.inspection.dashboard_charts import completion_chart, progress_chart

    campaign = get_campaign_or_404(campaign_id)
    rows = progress_rows(campaign)
    group = request.args.get("group", "all")
    if group == "province":
        rows = [r for r in rows if r.category != "副省级城市"]
    elif group == "city":
        rows = [r for r in rows if r.category == "副省级城市"]
    sort = request.args.get("sort", "code")
    reverse = request.args.get("dir", "desc" if sort != "code" else "asc") == "desc"
    rows = sorted(rows, key=SORTS.get(sort, SORTS["code"]), reverse=reverse)
    all_rows = progress_rows(campaign)
    g = gauges(campaign, all_rows)
    completion = [
        (
            r.name,
            (Decimal(r.effective_new) / Decimal(r.task_new))
            if r.task_new and r.effective_new is not None
            else None,
        )
        for r in rows
    ]
    return render_template(
        "inspection/dashboard.html",
        campaign=campaign,
        rows=rows,
        gauges=g,
        group=group,
        sort=sort,
        reverse=reverse,
        national=national_target(campaign),
        progress=progress_chart(g) if g else None,
        completion=completion_chart(completion, title=_("新建企业科协任务完成率（核实后）")),
    )


@bp.route("/campaigns/<int:campaign_id>/dashboard.xlsx")
@roles_required(Role.office)
def dashboard_export(campaign_id: int):
    from webapp.inspection.dashboard_export import dashboard_xlsx

    campaign = get_campaign_or_404(campaign_id)
    # An official document: its labels and hints stay Chinese whatever the interface language.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        rows = progress_rows(campaign)
        payload = dashboard_xlsx(
            title=f"{campaign.year}年企业科协组织建设进度",
            generated_at=format_beijing(now()),
            gauges=gauges(campaign, rows),
            units=rows,
        )
    log_event("export.download", obj=campaign, detail={"what": "dashboard", "bytes": len(payload)})
    return send_file(
        BytesIO(payload),
        as_attachment=True,
        download_name=f"全国进度-{campaign.year}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ---------------------------------------------------------------- spot checks


def _inspectors() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([Role.expert, Role.office]), User.is_enabled.is_(True))
            .order_by(User.role, User.id)
        )
    )


@bp.route("/programs/<int:program_id>/spot-checks", methods=["GET", "POST"])
@roles_required(Role.office)
def spot_checks(program_id: int):
    program = get_program_or_404(program_id)
    apps = sorted(
        db.session.scalars(
            select(Application).where(Application.program_id == program.id, Application.status.in_(LIVE))
        ).all(),
        key=lambda a: a.unit.sort_key,
    )
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        actor = current_user._get_current_object()
        application = db.session.get(Application, request.form.get("application_id", type=int))
        if application is None or application.program_id != program.id:
            abort(404)
        inspector = db.session.get(User, request.form.get("inspector_id", type=int) or 0)
        try:
            seed_text = (request.form.get("seed") or "").strip()
            size_text = (request.form.get("size") or "").strip()
            check = spot_check_of(application)
            if check is None:
                create_spot_check(
                    application,
                    seed=int(seed_text) if seed_text else None,
                    size=int(size_text) if size_text else None,
                    inspector=inspector,
                    actor=actor,
                )
                flash(_("已抽取 %(unit)s 的名册样本。", unit=application.unit.name), "success")
            elif inspector is not None:
                assign_inspector(check, inspector, actor=actor)
                flash(_("已指定核查人。"), "success")
        except (InspectionError, ValueError) as exc:
            db.session.rollback()
            _flash(getattr(exc, "problems", [_("种子和样本数须为整数。")]))
        return redirect(url_for("inspection.spot_checks", program_id=program.id))
    rows = [{"application": a, "check": spot_check_of(a), "effective": effective_new(a)} for a in apps]
    return render_template(
        "inspection/spot_checks.html",
        program=program,
        rows=rows,
        inspectors=_inspectors(),
        confirm=ConfirmForm(),
        candidates=criticism_candidates(program.campaign),
    )


def _load_check(check_id: int) -> SpotCheck:
    check = db.session.get(SpotCheck, check_id)
    if check is None or not can_inspect(current_user, check):
        abort(404)
    return check


@bp.route("/spot-checks/<int:check_id>", methods=["GET", "POST"])
@roles_required(Role.office, Role.expert)
def spot_check(check_id: int):
    check = _load_check(check_id)
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        entry = db.session.get(SpotCheckEntry, request.form.get("entry_id", type=int))
        if entry is None or entry.spot_check_id != check.id:
            abort(404)
        upload = request.files.get("evidence")
        try:
            record_check(
                entry,
                status=CheckStatus(request.form.get("status", "pending")),
                note=request.form.get("note", ""),
                upload=(upload.stream, upload.filename) if upload and upload.filename else None,
                actor=current_user._get_current_object(),
            )
        except (InspectionError, ValueError) as exc:
            db.session.rollback()
            _flash(getattr(exc, "problems", [_("请选择核查结论。")]))
        else:
            flash(_("已记录第 %(n)s 行的核查结论。", n=entry.row_no), "success")
        return redirect(url_for("inspection.spot_check", check_id=check.id))
    return render_template(
        "inspection/spot_check.html",
        check=check,
        statuses=list(CheckStatus)[1:],
        confirm=ConfirmForm(),
        effective=effective_new(check.application),
    )


@bp.route("/spot-checks/<int:check_id>/entries/<int:entry_id>/evidence")
@roles_required(Role.office, Role.expert)
def evidence(check_id: int, entry_id: int):
    check = _load_check(check_id)
    entry = db.session.get(SpotCheckEntry, entry_id)
    if entry is None or entry.spot_check_id != check.id or not entry.evidence_sha256:
        abort(404)
    return send_stored(entry.evidence_sha256, mime=entry.evidence_mime, name=entry.evidence_name)


@bp.route("/inspections")
@roles_required(Role.office, Role.expert)
def mine():
    checks = db.session.scalars(
        select(SpotCheck).where(SpotCheck.inspector_id == current_user.id).order_by(SpotCheck.id)
    ).all()
    checks = [c for c in checks if can_inspect(current_user, c)]
    return render_template("inspection/mine.html", checks=checks)
