"""Downloads for finance and the office, and the notice editor. Exports are pure functions returning
bytes; these views load, check access and send."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.audit.operations import chain_head, log_event
from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.campaigns.models import Phase
from webapp.campaigns.queries import get_campaign_or_404, get_program_or_404
from webapp.core.db import db
from webapp.core.timeutil import beijing, format_beijing, now
from webapp.exports import data
from webapp.exports.models import NoticeDraft, NoticeKind
from webapp.results.operations import latest_run

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _send(payload: bytes, name: str, mimetype: str, what: str, obj):
    log_event("export.download", obj=obj, detail={"file": name, "what": what, "bytes": len(payload)})
    return send_file(BytesIO(payload), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


def _require_final(program) -> None:
    if Phase(program.phase) not in data.FINAL_PHASES:
        abort(404)


@bp.route("/programs/<int:program_id>/exports/awards.xlsx")
@roles_required(Role.finance, Role.office)
def program_awards(program_id: int):
    from webapp.exports.award_list import award_list_xlsx

    program = get_program_or_404(program_id)
    _require_final(program)
    payload = award_list_xlsx(
        title=f"{program.title}支持名单",
        awards=data.award_rows(program),
        criteria=data.criteria_columns(program),
        breakdown=data.breakdown_rows(program),
        register=data.register_rows(program),
        generated_at=format_beijing(now()),
    )
    return _send(
        payload, f"支持名单-{program.campaign.year}-{program.kind.value}.xlsx", XLSX, "award_list", program
    )


@bp.route("/campaigns/<int:campaign_id>/exports/awards.xlsx")
@roles_required(Role.finance, Role.office)
def campaign_awards(campaign_id: int):
    from webapp.exports.award_list import award_list_xlsx

    campaign = get_campaign_or_404(campaign_id)
    programs = [p for p in campaign.programs if Phase(p.phase) in data.FINAL_PHASES]
    if not programs:
        abort(404)
    awards, breakdown, register = [], [], []
    for program in programs:
        awards += data.award_rows(program)
        breakdown += data.breakdown_rows(program)
        register += data.register_rows(program)
    criteria = (
        data.criteria_columns(programs[0])
        if len(programs) == 1
        else [c for p in programs for c in data.criteria_columns(p)]
    )
    seen, unique = set(), []
    for c in criteria:
        if c[0] not in seen:
            seen.add(c[0])
            unique.append(c)
    payload = award_list_xlsx(
        title=f"{campaign.year}年度企业科协组织建设支持名单（汇总）",
        awards=awards,
        criteria=unique,
        breakdown=breakdown,
        register=register,
        generated_at=format_beijing(now()),
    )
    return _send(payload, f"支持名单-{campaign.year}-汇总.xlsx", XLSX, "award_list_combined", campaign)


@bp.route("/programs/<int:program_id>/exports/score-sheets.xlsx")
@roles_required(Role.office)
def score_sheets(program_id: int):
    from webapp.exports.sheets import SheetCriterion, score_sheets_xlsx

    program = get_program_or_404(program_id)
    from webapp.campaigns.rubrics import rubric_of

    criteria = [SheetCriterion(c.key, c.title, c.max) for c in rubric_of(program).expert_criteria]
    payload = score_sheets_xlsx(
        title=program.title,
        criteria=criteria,
        sheets=data.expert_sheets(program),
        printed_on=beijing(now()).strftime("%Y-%m-%d"),
    )
    return _send(
        payload,
        f"专家评分表-{program.campaign.year}-{program.kind.value}.xlsx",
        XLSX,
        "score_sheets",
        program,
    )


@bp.route("/programs/<int:program_id>/exports/panel-summary.xlsx")
@roles_required(Role.office)
def panel_summary(program_id: int):
    from webapp.campaigns.rubrics import rubric_of
    from webapp.exports.sheets import SheetCriterion, panel_summary_xlsx

    program = get_program_or_404(program_id)
    run, experts, rows = data.summary_rows(program)
    if run is None:
        abort(404)
    criteria = [SheetCriterion(c.key, c.title, c.max) for c in rubric_of(program).criteria]
    payload = panel_summary_xlsx(
        title=f"{program.title}评分汇总表",
        criteria=criteria,
        experts=experts,
        rows=rows,
        run_label=f"第 {run.number} 次评审结果（{format_beijing(run.created_at)}）",
        printed_on=beijing(now()).strftime("%Y-%m-%d"),
    )
    return _send(
        payload,
        f"评分汇总表-{program.campaign.year}-{program.kind.value}.xlsx",
        XLSX,
        "panel_summary",
        program,
    )


@bp.route("/programs/<int:program_id>/panel-summary")
@roles_required(Role.office)
def panel_summary_page(program_id: int):
    """评分汇总表 as a page that prints on A4 landscape, with signature lines for experts and the leader."""
    from webapp.campaigns.rubrics import rubric_of

    program = get_program_or_404(program_id)
    run, experts, rows = data.summary_rows(program)
    if run is None:
        abort(404)
    return render_template("exports/panel_summary.html", program=program, run=run, experts=experts, rows=rows,
                           rubric=rubric_of(program), printed_on=beijing(now()).strftime("%Y-%m-%d"))


@bp.route("/programs/<int:program_id>/exports/audit-package.zip")
@roles_required(Role.office, Role.auditor, Role.finance)
def audit_package(program_id: int):
    from webapp.exports.package import build_audit_package

    program = get_program_or_404(program_id)
    decisions = data.current_decisions(program)
    run = next(iter(decisions.values())).run if decisions else latest_run(program)
    if run is None:
        abort(404)
    payload = build_audit_package(
        rubric_toml=program.rubric_toml,
        inputs=run.inputs_data(),
        result_json=run.result,
        awards_json=run.awards,
        bootstrap=run.bootstrap,
        seed=run.seed,
        budget=None if run.budget is None else int(run.budget),
        decisions=data.decisions_table(program),
        register=data.register_table(program),
        chain_head=chain_head(),
        description={
            "program": program.title,
            "run": run.number,
            "created_at": format_beijing(run.created_at),
            "inputs_sha256": run.inputs_sha256,
            "generated_at": format_beijing(now()),
        },
    )
    return _send(
        payload,
        f"审计包-{program.campaign.year}-{program.kind.value}-第{run.number}次.zip",
        "application/zip",
        "audit_package",
        program,
    )


class NoticeForm(FlaskForm):
    doc_number = StringField(
        _l("发文字号"),
        validators=[Optional(), Length(max=60)],
        description=_l("如 科协函企字〔2014〕58号（年份用六角括号〔〕）"),
    )
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=200)])
    addressees = StringField(
        _l("主送机关"), validators=[DataRequired(_l("请填写主送机关。")), Length(max=500)]
    )
    body = TextAreaField(
        _l("正文（段落之间空一行）"), validators=[DataRequired(_l("请填写正文。"))], render_kw={"rows": 14}
    )
    signature = StringField(
        _l("发文机关署名"), validators=[DataRequired(_l("请填写署名。")), Length(max=120)]
    )
    issued_on = DateField(_l("成文日期"), validators=[Optional()])


@bp.route("/campaigns/<int:campaign_id>/notices/<any(commendation,criticism):kind>", methods=["GET", "POST"])
@roles_required(Role.office, Role.finance)
def notice(campaign_id: int, kind: str):
    from webapp.exports.notices import validate_doc_number

    campaign = get_campaign_or_404(campaign_id)
    notice_kind = NoticeKind(kind)
    draft = data.get_draft(campaign, notice_kind)
    form = NoticeForm(obj=draft)
    if request.method == "GET" and draft is None:
        default = data.default_draft(campaign, notice_kind)
        form.title.data, form.body.data = default["title"], default["body"]
        form.addressees.data = "各省、自治区、直辖市、副省级城市科协，新疆生产建设兵团科协："
        form.signature.data = "中国科协"
    problems: list[str] = []
    if request.method == "POST":
        if Role(current_user.role) != Role.office:
            abort(403)
        if form.validate_on_submit():
            message = validate_doc_number(form.doc_number.data) if form.doc_number.data else None
            if message:
                problems.append(message)
            else:
                if draft is None:
                    draft = NoticeDraft(campaign_id=campaign.id, kind=notice_kind, updated_at=now())
                    db.session.add(draft)
                for name in ("doc_number", "title", "addressees", "body", "signature", "issued_on"):
                    setattr(draft, name, getattr(form, name).data or ("" if name != "issued_on" else None))
                draft.updated_by_id = current_user.id
                draft.updated_at = now()
                db.session.flush()
                log_event("notice.save", obj=campaign, detail={"kind": kind, "doc_number": draft.doc_number})
                flash(_("通报文稿已保存。"), "success")
                return redirect(url_for("exports.notice", campaign_id=campaign.id, kind=kind))
    units = data.notice_units(campaign, notice_kind)
    return render_template(
        "exports/notice.html",
        campaign=campaign,
        kind=notice_kind,
        form=form,
        units=units,
        problems=problems,
        editable=Role(current_user.role) == Role.office,
    )


@bp.route("/campaigns/<int:campaign_id>/notices/<any(commendation,criticism):kind>.docx")
@roles_required(Role.office, Role.finance)
def notice_docx(campaign_id: int, kind: str):
    from webapp.exports.notices import notice_docx as render

    campaign = get_campaign_or_404(campaign_id)
    if not any(Phase(p.phase) in data.FINAL_PHASES for p in campaign.programs):
        abort(404)
    payload = render(data.notice_of(campaign, NoticeKind(kind), beijing(now()).date()))
    label = NoticeKind(kind).label
    return _send(payload, f"{campaign.year}年{label}.docx", DOCX, f"notice_{kind}", campaign)


@bp.route("/applications/<int:application_id>/notice")
@roles_required(Role.applicant, Role.office)
def unit_notice(application_id: int):
    """A unit sees only its own line of the notices (and their heading), after 定案."""
    from webapp.applications.views import load_application

    application = load_application(application_id)
    campaign = application.program.campaign
    excerpts = []
    if Phase(application.program.phase) in data.FINAL_PHASES:
        for kind in NoticeKind:
            notice = data.notice_of(campaign, kind, beijing(now()).date())
            mine = [u for u in notice.units if u.code == application.unit.code]
            if mine:
                excerpts.append((kind, notice, mine[0]))
    return render_template("exports/unit_notice.html", application=application, excerpts=excerpts)
