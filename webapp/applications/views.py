"""Applicant-portal pages and the office's application list and formal check."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.applications import rules
from webapp.applications import workflow as _workflow  # noqa: F401  (registers phase guards)
from webapp.applications.figures import figures_form_class, parse_figures, ratio_preview
from webapp.applications.forms import (
    CheckForm,
    ConfirmForm,
    EvidenceForm,
    LetterForm,
    NominateForm,
    PayeeForm,
    RecommendationForm,
    RosterForm,
)
from webapp.applications.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentPurpose,
    CheckDecision,
    FigureSource,
    Receipt,
)
from webapp.applications.operations import (
    ApplicationError,
    RosterImportError,
    add_evidence,
    add_recommendation_letter,
    delete_attachment,
    formal_check,
    import_roster,
    missing_parts,
    nominate,
    reject_expired_correction,
    roster_count_check,
    save_figures,
    save_payee,
    save_recommendation,
    start_application,
    submit,
    withdraw,
)
from webapp.applications.roster import roster_template
from webapp.auth.models import Role
from webapp.auth.permissions import require, roles_required
from webapp.campaigns.models import ProgramKind
from webapp.campaigns.queries import get_program_or_404
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import now
from webapp.reviews.forms import ExclusionForm
from webapp.reviews.models import ExclusionRequest
from webapp.units.models import Unit
from webapp.web.files import send_stored

bp = Blueprint("applications", __name__)



def load_application(application_id: int) -> Application:
    """Load and authorise: anyone who may not see this application gets 404, as if it did not exist."""
    application = db.session.get(Application, application_id)
    if application is None or not rules.can_view(current_user, application):
        abort(404)
    from webapp.campaigns.operations import apply_due_transitions

    apply_due_transitions(application.program)
    return application


def _spot_check_summary(application: Application):
    """The roster spot check's outcome, if any (the unit sees what the scoring will use)."""
    from webapp.inspection.operations import effective_new, spot_check_of

    check = spot_check_of(application)
    return None if check is None else {"check": check, "effective": effective_new(application)}


def _flash_problems(problems: list[str]) -> None:
    for problem in problems:
        flash(problem, "danger")


# ---------------------------------------------------------------- applicant pages


@bp.route("/programs/<int:program_id>/apply", methods=["POST"])
@roles_required(Role.applicant)
def apply(program_id: int):
    program = get_program_or_404(program_id)
    if ConfirmForm().validate_on_submit():
        try:
            application = start_application(
                program, current_user.unit, actor=current_user._get_current_object()
            )
        except ApplicationError as exc:
            _flash_problems(exc.problems)
            return redirect(url_for("home.applicant"))
        return redirect(url_for("applications.show", application_id=application.id))
    return redirect(url_for("home.applicant"))


@bp.route("/applications/<int:application_id>")
@roles_required(Role.applicant, Role.office)
def show(application_id: int):
    application = load_application(application_id)
    rubric = rubric_of(application.program)
    at = now()
    count, reported = roster_count_check(application)
    return render_template(
        "applications/show.html",
        application=application,
        rubric=rubric,
        missing=missing_parts(application),
        can_edit=rules.can_edit(current_user, application, at),
        can_add=rules.can_add_material(current_user, application, at),
        can_submit=rules.can_submit(current_user, application, at),
        can_withdraw=rules.can_withdraw(current_user, application, at),
        can_check=rules.can_check(current_user, application),
        roster_count=count,
        roster_reported=reported,
        ratios=ratio_preview(rubric, application.figure_values()),
        confirm=ConfirmForm(),
        statuses=ApplicationStatus,
        spot_check=_spot_check_summary(application),
        exclusion_form=ExclusionForm(),
        payee_form=PayeeForm(obj=application),
        exclusions=db.session.scalars(
            select(ExclusionRequest)
            .where(ExclusionRequest.application_id == application.id)
            .order_by(ExclusionRequest.id)
        ).all(),
    )


@bp.route("/applications/<int:application_id>/payee", methods=["POST"])
@roles_required(Role.applicant)
def payee(application_id: int):
    application = load_application(application_id)
    form = PayeeForm()
    if form.validate_on_submit():
        try:
            save_payee(application, payee_name=form.payee_name.data, bank_name=form.bank_name.data,
                       bank_account=form.bank_account.data, actor=current_user._get_current_object())
        except ApplicationError as exc:
            _flash_problems(exc.problems)
        else:
            flash(_("收款信息已保存。"), "success")
    return redirect(url_for("applications.show", application_id=application.id) + "#payee")


@bp.route("/applications/<int:application_id>/figures", methods=["GET", "POST"])
@roles_required(Role.applicant, Role.office)
def figures(application_id: int):
    application = load_application(application_id)
    rubric = rubric_of(application.program)
    locked = {f.indicator for f in application.figures if FigureSource(f.source) == FigureSource.office}
    form = figures_form_class(rubric, locked)()
    editable = rules.can_edit(current_user, application, now())
    problems: list[str] = []
    warnings: list[str] = []
    if request.method == "GET":
        for key, value in application.figure_values().items():
            if hasattr(form, key):
                getattr(form, key).data = "" if value is None else format(value.normalize(), "f")
    elif form.validate_on_submit():
        require(editable)
        raw = {i.key: getattr(form, i.key).data for i in rubric.indicators}
        try:
            result = save_figures(application, raw, actor=current_user._get_current_object())
        except ApplicationError as exc:
            problems = exc.problems
        else:
            for warning in result.warnings:
                flash(warning, "warning")
            flash(_("数据已保存。"), "success")
            return redirect(url_for("applications.figures", application_id=application.id))
    values, _checks = parse_figures(rubric, {i.key: getattr(form, i.key).data for i in rubric.indicators})
    return render_template(
        "applications/figures.html",
        application=application,
        rubric=rubric,
        form=form,
        editable=editable,
        problems=problems,
        warnings=warnings,
        ratios=ratio_preview(rubric, values),
        locked=locked,
    )


@bp.route("/applications/<int:application_id>/figures/preview", methods=["POST"])
@roles_required(Role.applicant, Role.office)
def figures_preview(application_id: int):
    """Live ratios while typing: the scoring engine computes them from the unsaved figures."""
    application = load_application(application_id)
    rubric = rubric_of(application.program)
    payload = request.get_json(silent=True) or {}
    raw = {i.key: str(payload.get(i.key) or "") for i in rubric.indicators}
    values, checks = parse_figures(rubric, raw)
    return jsonify(
        {
            "ratios": [
                {
                    "criterion": r.criterion_title,
                    "numerator": r.numerator_title,
                    "denominator": r.denominator_title,
                    "ratio": r.ratio,
                    "missing": list(r.missing),
                }
                for r in ratio_preview(rubric, {k: v for k, v in values.items() if k not in checks.errors})
            ],
            "errors": checks.errors,
            "warnings": checks.warnings,
        }
    )


@bp.route("/applications/<int:application_id>/evidence", methods=["GET", "POST"])
@roles_required(Role.applicant, Role.office)
def evidence(application_id: int):
    application = load_application(application_id)
    rubric = rubric_of(application.program)
    form = EvidenceForm()
    form.criterion.choices = [SelectChoice(c.key, c.title) for c in rubric.expert_criteria]
    if request.method == "GET" and request.args.get("criterion"):
        form.criterion.data = request.args["criterion"]
    can_add = rules.can_add_material(current_user, application, now())
    problems: list[str] = []
    if form.validate_on_submit():
        require(can_add)
        upload = form.file.data
        try:
            attachment = add_evidence(
                application,
                criterion=form.criterion.data,
                title=form.title.data,
                stream=upload.stream,
                filename=upload.filename or "",
                actor=current_user._get_current_object(),
            )
        except ApplicationError as exc:
            problems = exc.problems
        else:
            flash(_("已上传：%(title)s", title=attachment.title), "success")
            return redirect(
                url_for(
                    "applications.evidence", application_id=application.id, criterion=attachment.criterion
                )
            )
    return render_template(
        "applications/evidence.html",
        application=application,
        rubric=rubric,
        form=form,
        can_add=can_add,
        can_edit=rules.can_edit(current_user, application, now()),
        problems=problems,
        confirm=ConfirmForm(),
        purposes=AttachmentPurpose,
    )


def _load_attachment(application_id: int, attachment_id: int) -> Attachment:
    application = load_application(application_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    return attachment


@bp.route("/applications/<int:application_id>/files/<int:attachment_id>")
@roles_required(Role.applicant, Role.office)
def download(application_id: int, attachment_id: int):
    attachment = _load_attachment(application_id, attachment_id)
    return send_stored(attachment.sha256, mime=attachment.mime, name=attachment.original_name,
                       inline=request.args.get("inline") == "1")


@bp.route("/applications/<int:application_id>/files/<int:attachment_id>/delete", methods=["POST"])
@roles_required(Role.applicant)
def delete_file(application_id: int, attachment_id: int):
    attachment = _load_attachment(application_id, attachment_id)
    back = request.form.get("back") or url_for("applications.evidence", application_id=application_id)
    if not back.startswith("/"):
        back = url_for("applications.evidence", application_id=application_id)
    if ConfirmForm().validate_on_submit():
        require(rules.can_edit(current_user, attachment.application, now()))
        title = attachment.title
        delete_attachment(attachment, actor=current_user._get_current_object())
        flash(_("已删除：%(title)s", title=title), "success")
    return redirect(back)


@bp.route("/applications/<int:application_id>/roster", methods=["GET", "POST"])
@roles_required(Role.applicant, Role.office)
def roster(application_id: int):
    application = load_application(application_id)
    form = RosterForm()
    can_add = rules.can_add_material(current_user, application, now())
    problems: list[str] = []
    outcome = None
    if form.validate_on_submit():
        require(can_add)
        upload = form.file.data
        try:
            outcome = import_roster(
                application,
                stream=upload.stream,
                filename=upload.filename or "",
                actor=current_user._get_current_object(),
            )
        except RosterImportError as exc:
            problems = exc.problems
        except ApplicationError as exc:
            problems = exc.problems
        else:
            flash(_("名册已导入，共 %(n)s 个企业科协。", n=outcome.count), "success")
            return redirect(url_for("applications.roster", application_id=application.id))
    count, reported = roster_count_check(application)
    return render_template(
        "applications/roster.html",
        application=application,
        form=form,
        can_add=can_add,
        can_edit=rules.can_edit(current_user, application, now()),
        problems=problems,
        count=count,
        reported=reported,
        confirm=ConfirmForm(),
        roster_files=application.attachments_for(AttachmentPurpose.roster),
    )


@bp.route("/applications/<int:application_id>/roster/template.xlsx")
@roles_required(Role.applicant, Role.office)
def roster_template_download(application_id: int):
    application = load_application(application_id)
    from io import BytesIO

    data = roster_template(application.program.campaign.year, application.unit.name)
    return send_file(
        BytesIO(data),
        as_attachment=True,
        download_name=f"新建企业科协名册模板-{application.unit.code}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/applications/<int:application_id>/submit", methods=["GET", "POST"])
@roles_required(Role.applicant, Role.office)
def submission(application_id: int):
    application = load_application(application_id)
    at = now()
    can_submit = rules.can_submit(current_user, application, at)
    text_form = RecommendationForm(prefix="rec")
    letter_form = LetterForm(prefix="letter")
    problems: list[str] = []
    if request.method == "GET":
        text_form.recommendation.data = application.recommendation
    else:
        require(can_submit)
        actor = current_user._get_current_object()
        action = request.form.get("action")
        try:
            if action == "save_text" and text_form.validate_on_submit():
                save_recommendation(application, text=text_form.recommendation.data or "", actor=actor)
                flash(_("推荐意见已保存。"), "success")
                return redirect(url_for("applications.submission", application_id=application.id))
            if action == "letter" and letter_form.validate_on_submit():
                add_recommendation_letter(
                    application,
                    stream=letter_form.file.data.stream,
                    filename=letter_form.file.data.filename or "",
                    actor=actor,
                )
                flash(_("盖章推荐函已上传。"), "success")
                return redirect(url_for("applications.submission", application_id=application.id))
            if action == "submit" and ConfirmForm().validate_on_submit():
                receipt = submit(application, actor=actor)
                flash(_("申报已提交，回执编号 %(n)s。", n=receipt.number), "success")
                return redirect(url_for("applications.receipt", receipt_id=receipt.id))
        except ApplicationError as exc:
            problems = exc.problems
    return render_template(
        "applications/submit.html",
        application=application,
        can_submit=can_submit,
        text_form=text_form,
        letter_form=letter_form,
        problems=problems,
        missing=missing_parts(application),
        confirm=ConfirmForm(),
        letters=application.attachments_for(AttachmentPurpose.recommendation_letter),
    )


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@roles_required(Role.applicant)
def withdraw_view(application_id: int):
    application = load_application(application_id)
    if ConfirmForm().validate_on_submit():
        try:
            withdraw(application, actor=current_user._get_current_object())
        except ApplicationError as exc:
            _flash_problems(exc.problems)
        else:
            flash(_("申报已撤回，可修改后在截止前重新提交；原回执保留并标注已撤回。"), "success")
    return redirect(url_for("applications.show", application_id=application.id))


@bp.route("/receipts/<int:receipt_id>")
@roles_required(Role.applicant, Role.office)
def receipt(receipt_id: int):
    record = db.session.get(Receipt, receipt_id)
    if record is None:
        abort(404)
    load_application(record.application_id)
    return render_template("applications/receipt.html", receipt=record, manifest=json.loads(record.manifest))


# ---------------------------------------------------------------- office pages


@bp.route("/programs/<int:program_id>/applications", methods=["GET", "POST"])
@roles_required(Role.office)
def office_list(program_id: int):
    program = get_program_or_404(program_id)
    form = NominateForm()
    applications = db.session.scalars(select(Application).where(Application.program_id == program.id)).all()
    taken = {a.unit_id for a in applications}
    units = sorted(db.session.scalars(select(Unit)).all(), key=lambda u: u.sort_key)
    form.unit_id.choices = [SelectChoice(u.id, f"{u.code} {u.name}") for u in units if u.id not in taken]
    if ProgramKind(program.kind) == ProgramKind.pilot and form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        try:
            nominate(program, unit, actor=current_user._get_current_object())
        except ApplicationError as exc:
            _flash_problems(exc.problems)
        else:
            flash(_("已邀请 %(unit)s 申报试点示范。", unit=unit.name), "success")
        return redirect(url_for("applications.office_list", program_id=program.id))
    applications = sorted(applications, key=lambda a: a.unit.sort_key)
    rows = []
    for application in applications:
        count, reported = roster_count_check(application)
        rows.append(
            {
                "application": application,
                "missing": len(missing_parts(application)),
                "roster": count,
                "reported": reported,
                "mismatch": reported is not None and count != reported,
            }
        )
    summary = {s: sum(1 for a in applications if a.status == s) for s in ApplicationStatus}
    return render_template(
        "applications/office_list.html",
        program=program,
        rows=rows,
        form=form,
        summary=summary,
        statuses=list(ApplicationStatus),
        is_pilot=program.kind == ProgramKind.pilot,
    )


@bp.route("/applications/<int:application_id>/check", methods=["GET", "POST"])
@roles_required(Role.office)
def check(application_id: int):
    application = load_application(application_id)
    form = CheckForm()
    form.decision.choices = [SelectChoice(d.value, _(d.label)) for d in CheckDecision]
    problems: list[str] = []
    if request.method == "POST" and request.form.get("action") == "expire":
        if ConfirmForm().validate_on_submit():
            try:
                reject_expired_correction(application, actor=current_user._get_current_object())
            except ApplicationError as exc:
                _flash_problems(exc.problems)
            else:
                flash(_("已按补正逾期作不通过处理。"), "success")
        return redirect(url_for("applications.show", application_id=application.id))
    if form.validate_on_submit():
        require(rules.can_check(current_user, application))
        try:
            formal_check(
                application,
                decision=CheckDecision(form.decision.data),
                note=form.note.data or "",
                working_days=form.working_days.data or 3,
                actor=current_user._get_current_object(),
            )
        except ApplicationError as exc:
            problems = exc.problems
        else:
            flash(
                _(
                    "形式审查结论已记录：%(unit)s %(decision)s。",
                    unit=application.unit.name,
                    decision=_(CheckDecision(form.decision.data).label),
                ),
                "success",
            )
            return redirect(url_for("applications.office_list", program_id=application.program_id))
    return render_template(
        "applications/check.html",
        application=application,
        form=form,
        problems=problems,
        can_check=rules.can_check(current_user, application),
        confirm=ConfirmForm(),
        missing=missing_parts(application),
        now=now(),
    )
