"""Publicity: the office's rounds and register, and the public pages (no login) with the objection form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from webapp.auth.models import Role
from webapp.auth.permissions import public, roles_required
from webapp.campaigns.models import Phase, Program
from webapp.campaigns.queries import all_campaigns, get_program_or_404
from webapp.core.db import db
from webapp.core.timeutil import beijing, now
from webapp.publicity.models import Conclusion, Objection
from webapp.publicity.operations import (
    PublicityError,
    finalise,
    latest_round,
    lodge_objection,
    objections,
    open_round,
    open_round_now,
    plan_period,
    record_entry,
    rounds,
)
from webapp.results.models import DecisionKind
from webapp.results.operations import ResultsError, change_decision, current_decisions
from webapp.web.files import send_stored

bp = Blueprint("publicity", __name__)


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


class OpenForm(FlaskForm):
    start = DateField(_l("公示开始日期"), validators=[Optional()])
    confirmed_end = DateField(_l("公示截止日期（日历未收录该年时手工确认）"), validators=[Optional()])
    contact = TextAreaField(_l("异议受理方式"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 3})


class EntryForm(FlaskForm):
    investigation = TextAreaField(_l("调查核实情况"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})
    conclusion = SelectField(_l("结论"), choices=[SelectChoice(c.value, _l(c.label)) for c in Conclusion])
    reply = TextAreaField(_l("答复内容"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})
    concluded_on = DateField(_l("结论日期"), validators=[Optional()])
    replied_on = DateField(_l("答复日期"), validators=[Optional()])


class ObjectionForm(FlaskForm):
    name = StringField(_l("真实姓名"), validators=[Optional(), Length(max=60)])
    organisation = StringField(_l("工作单位"), validators=[Optional(), Length(max=120)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=40)])
    application_id = SelectField(_l("对哪个单位提出异议"), coerce=int, choices=[], validate_choice=False)
    content = TextAreaField(_l("异议内容及事实依据"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 6})
    file = FileField(_l("证明材料（可选，PDF、Word、Excel、JPG、PNG）"))


def _flash(problems):
    for problem in problems:
        flash(problem, "danger")


def published(program: Program) -> list:
    """What the public sees: each unit with its proposed outcome (funded and commended ones)."""
    decisions = current_decisions(program)
    rows = [d for d in decisions.values()
            if DecisionKind(d.kind) in (DecisionKind.pilot, DecisionKind.post_subsidy, DecisionKind.commendation)]
    return sorted(rows, key=lambda d: d.application.unit.sort_key)


# ---------------------------------------------------------------- office


@bp.route("/programs/<int:program_id>/publicity", methods=["GET", "POST"])
@roles_required(Role.office)
def manage(program_id: int):
    program = get_program_or_404(program_id)
    form = OpenForm(prefix="open")
    actor = current_user._get_current_object()
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "open" and form.validate_on_submit():
                if form.start.data is None:
                    raise PublicityError([_("请填写公示开始日期。")])
                round_ = open_round(program, start=form.start.data, contact=form.contact.data or "",
                                    confirmed_end=form.confirmed_end.data, actor=actor)
                message = _("第 %(n)s 轮公示：%(s)s 至 %(e)s。", n=round_.number, s=round_.start_date,
                            e=round_.end_date)
                if round_.end_confirmed_by_hand:
                    message += _("截止日期为手工确认，请留意法定节假日安排。")
                flash(message, "success")
            elif action == "finalise" and ConfirmForm().validate_on_submit():
                finalise(program, actor=actor)
                flash(_("已定案，决定和金额已冻结。"), "success")
        except PublicityError as exc:
            db.session.rollback()
            _flash(exc.problems)
        return redirect(url_for("publicity.manage", program_id=program.id))
    today = beijing(now()).date()
    plan = plan_period(today)
    return render_template(
        "publicity/manage.html", program=program, form=form, rounds=rounds(program), objections=objections(program),
        entry_form=EntryForm(prefix="entry"), confirm=ConfirmForm(), plan=plan, today=today,
        published=published(program), kinds=list(DecisionKind), decisions=current_decisions(program),
    )


def _objection_or_404(objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None:
        abort(404)
    return objection


@bp.route("/objections/<int:objection_id>/entries", methods=["POST"])
@roles_required(Role.office)
def add_entry(objection_id: int):
    objection = _objection_or_404(objection_id)
    form = EntryForm(prefix="entry")
    program = objection.round.program
    if form.validate_on_submit():
        actor = current_user._get_current_object()
        try:
            conclusion = Conclusion(form.conclusion.data)
            record_entry(objection, investigation=form.investigation.data, conclusion=conclusion,
                         reply=form.reply.data, concluded_on=form.concluded_on.data,
                         replied_on=form.replied_on.data, actor=actor)
            if conclusion == Conclusion.upheld and request.form.get("new_kind") and objection.application_id:
                amount_text = (request.form.get("new_amount") or "").replace(",", "").strip()
                from decimal import Decimal, InvalidOperation

                try:
                    amount = Decimal(amount_text) if amount_text else None
                except InvalidOperation:
                    raise PublicityError([_("金额“%(text)s”不是数字。", text=amount_text)]) from None
                change_decision(objection.application, kind=DecisionKind(request.form["new_kind"]), amount=amount,
                                reason=f"异议 {objection.receipt_no} 成立：{form.reply.data}",
                                objection_id=objection.id, actor=actor)
                flash(_("决定已变更；须就变更部分重新公示后才能定案。"), "warning")
        except (PublicityError, ResultsError) as exc:
            db.session.rollback()
            _flash(exc.problems)
        else:
            flash(_("已登记异议 %(n)s 的处理情况。", n=objection.receipt_no), "success")
    else:
        _flash([e for errors in form.errors.values() for e in errors])
    return redirect(url_for("publicity.manage", program_id=program.id) + f"#objection-{objection.id}")


@bp.route("/objections/<int:objection_id>/attachment")
@roles_required(Role.office)
def attachment(objection_id: int):
    objection = _objection_or_404(objection_id)
    if not objection.attachment_sha256:
        abort(404)
    return send_stored(objection.attachment_sha256, mime=objection.attachment_mime, name=objection.attachment_name)


# ---------------------------------------------------------------- public


def _public_programs() -> list[Program]:
    return [p for c in all_campaigns() for p in c.programs if Phase(p.phase) in (Phase.publicity,)]


@bp.route("/publicity")
@public
def index():
    items = []
    for program in _public_programs():
        items.append({"program": program, "round": latest_round(program), "open": open_round_now(program),
                      "rows": published(program)})
    return render_template("publicity/index.html", items=items, today=beijing(now()).date())


@bp.route("/publicity/<int:program_id>/object", methods=["GET", "POST"])
@public
def object_form(program_id: int):
    program = db.session.get(Program, program_id)
    if program is None or Phase(program.phase) != Phase.publicity:
        abort(404)
    form = ObjectionForm()
    rows = published(program)
    form.application_id.choices = [SelectChoice(0, _("（请选择）"))] + [
        SelectChoice(d.application_id, d.application.unit.name) for d in rows]
    problems: list[str] = []
    if form.validate_on_submit():
        upload = None
        if form.file.data and form.file.data.filename:
            upload = (form.file.data.stream, form.file.data.filename)
        try:
            objection = lodge_objection(
                program, name=form.name.data, organisation=form.organisation.data, phone=form.phone.data,
                content=form.content.data, application_id=form.application_id.data or None, upload=upload,
                ip=request.remote_addr)
        except PublicityError as exc:
            problems = exc.problems
        else:
            return render_template("publicity/receipt.html", objection=objection, program=program)
    return render_template("publicity/object.html", program=program, form=form, problems=problems,
                           round=open_round_now(program) or latest_round(program), today=beijing(now()).date())
