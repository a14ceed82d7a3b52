"""Expert pages (list, score form, evidence, conflict declaration, score sheet) and the office's panel."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from scoring.indicators import formula_scores
from webapp.applications.models import Application, Attachment, AttachmentPurpose
from webapp.auth.models import Role, User
from webapp.auth.permissions import require, roles_required
from webapp.campaigns.models import Phase
from webapp.campaigns.queries import get_program_or_404
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import now
from webapp.reviews import workflow as _workflow  # noqa: F401  (registers phase guards)
from webapp.reviews.forms import (
    AssignForm,
    ConfirmForm,
    DeclareForm,
    ExclusionDecisionForm,
    ExclusionForm,
    ManualForm,
    ReasonForm,
    score_form_class,
)
from webapp.reviews.models import ACTIVE, Assignment, AssignmentStatus, ExclusionRequest, Message
from webapp.reviews.operations import (
    ReviewError,
    add_assignment,
    assign_full_panel,
    assign_k_per_application,
    can_review,
    can_score,
    conflict_reason,
    decide_exclusion,
    declare_conflict,
    experts,
    passed_applications,
    program_assignments,
    progress,
    remind,
    remove_assignment,
    reopen_review,
    request_exclusion,
    save_review,
)
from webapp.web.files import send_stored

bp = Blueprint("reviews", __name__)


def _flash(problems: list[str]) -> None:
    for problem in problems:
        flash(problem, "danger")


def load_assignment(assignment_id: int) -> Assignment:
    """The expert's own active, non-conflicted assignment, else 404 (never reveal others')."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not can_review(current_user, assignment).allowed:
        abort(404)
    from webapp.campaigns.operations import apply_due_transitions

    apply_due_transitions(assignment.application.program)
    return assignment


# ---------------------------------------------------------------- expert


def my_assignments(user) -> list[Assignment]:
    rows = db.session.scalars(select(Assignment).where(Assignment.expert_id == user.id,
                                                       Assignment.status.in_(ACTIVE))).all()
    visible = [a for a in rows if not conflict_reason(user, a.application)]
    return sorted(visible, key=lambda a: (a.application.program_id, a.application.unit.sort_key))


@bp.route("/reviews")
@roles_required(Role.expert)
def index():
    assignments = my_assignments(current_user)
    done = sum(1 for a in assignments if AssignmentStatus(a.status) == AssignmentStatus.submitted)
    messages = db.session.scalars(select(Message).where(Message.recipient_id == current_user.id)
                                  .order_by(Message.id.desc()).limit(20)).all()
    return render_template("reviews/index.html", assignments=assignments, done=done, total=len(assignments),
                           messages=messages)


@bp.route("/reviews/<int:assignment_id>", methods=["GET", "POST"])
@roles_required(Role.expert)
def score(assignment_id: int):
    assignment = load_assignment(assignment_id)
    application = assignment.application
    rubric = rubric_of(application.program)
    form = score_form_class(rubric)()
    editable = can_score(current_user, assignment)
    problems: list[str] = []
    if request.method == "GET":
        for criterion in rubric.expert_criteria:
            value = assignment.score_map().get(criterion.key)
            getattr(form, f"score_{criterion.key}").data = "" if value is None else format(value.normalize(), "f")
        form.opinion.data = assignment.opinion
    elif form.validate_on_submit():
        require(editable)
        submit = request.form.get("action") == "submit"
        raw = {c.key: getattr(form, f"score_{c.key}").data for c in rubric.expert_criteria}
        try:
            save_review(assignment, raw_scores=raw, opinion=form.opinion.data or "", submit=submit,
                        actor=current_user._get_current_object())
            db.session.flush()
        except ReviewError as exc:
            problems = exc.problems
        except StaleDataError:
            db.session.rollback()
            flash(_("该评分已在另一个窗口中保存或提交，请查看最新内容。"), "warning")
            return redirect(url_for("reviews.score", assignment_id=assignment_id))
        else:
            flash(_("评分已提交并锁定。") if submit else _("草稿已保存。"), "success")
            return redirect(url_for("reviews.index") if submit else url_for("reviews.score",
                                                                           assignment_id=assignment.id))
    from webapp.inspection.operations import effective_figures, effective_new

    figures = effective_figures(application)
    formula = formula_scores(rubric, {k: v for k, v in figures.items() if k in {i.key for i in rubric.indicators}})
    evidence = {c.key: application.attachments_for(AttachmentPurpose.evidence, c.key) for c in rubric.expert_criteria}
    return render_template("reviews/score.html", assignment=assignment, application=application, rubric=rubric,
                           form=form, editable=editable, problems=problems, formula=formula, evidence=evidence,
                           figures=figures, declare=DeclareForm(), effective=effective_new(application))


@bp.route("/reviews/<int:assignment_id>/files/<int:attachment_id>")
@roles_required(Role.expert)
def file(assignment_id: int, attachment_id: int):
    assignment = load_assignment(assignment_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != assignment.application_id:
        abort(404)
    return send_stored(attachment.sha256, mime=attachment.mime, name=attachment.original_name,
                       inline=request.args.get("inline") == "1")


@bp.route("/reviews/<int:assignment_id>/declare", methods=["POST"])
@roles_required(Role.expert)
def declare(assignment_id: int):
    assignment = load_assignment(assignment_id)
    form = DeclareForm()
    if form.validate_on_submit():
        try:
            declare_conflict(assignment, reason=form.reason.data, actor=current_user._get_current_object())
        except ReviewError as exc:
            _flash(exc.problems)
            return redirect(url_for("reviews.score", assignment_id=assignment.id))
        flash(_("已申明回避，该评审任务已结束，业务处室会收到通知。"), "success")
        return redirect(url_for("reviews.index"))
    _flash([e for errors in form.errors.values() for e in errors])
    return redirect(url_for("reviews.score", assignment_id=assignment.id))


@bp.route("/reviews/sheet")
@roles_required(Role.expert)
def sheet():
    """The expert's printable score sheet (评分表) with a signature line."""
    program_id = request.args.get("program", type=int)
    assignments = [a for a in my_assignments(current_user)
                   if program_id is None or a.application.program_id == program_id]
    groups = {}
    for a in assignments:
        groups.setdefault(a.application.program, []).append(a)
    sheets = [(program, rubric_of(program), rows) for program, rows in groups.items()]
    return render_template("reviews/sheet.html", sheets=sheets, printed_at=now())


# ---------------------------------------------------------------- office


@bp.route("/programs/<int:program_id>/panel", methods=["GET", "POST"])
@roles_required(Role.office)
def panel(program_id: int):
    program = get_program_or_404(program_id)
    form = AssignForm(prefix="assign")
    form.mode.choices = [SelectChoice("full", _("全体专家评审每一份（常规）")),
                         SelectChoice("k", _("每份由 k 位专家评审，负担均衡"))]
    manual = ManualForm(prefix="manual")
    applications = passed_applications(program)
    panel_experts = experts()
    manual.application_id.choices = [SelectChoice(a.id, a.unit.name) for a in applications]
    manual.expert_id.choices = [SelectChoice(e.id, f"{e.display_name}（{e.home_region.region}）") for e in panel_experts]
    if request.method == "POST":
        actor = current_user._get_current_object()
        action = request.form.get("action")
        try:
            if action == "assign" and form.validate_on_submit():
                if form.mode.data == "k":
                    summary = assign_k_per_application(program, form.k.data or 5, actor=actor)
                else:
                    summary = assign_full_panel(program, actor=actor)
                flash(_("已分配 %(n)s 份评审任务。", n=summary.created), "success")
            elif action == "add" and manual.validate_on_submit():
                add_assignment(db.session.get(Application, manual.application_id.data),
                               db.session.get(User, manual.expert_id.data), actor=actor)
                flash(_("已添加评审任务。"), "success")
            elif action == "remind" and ConfirmForm().validate_on_submit():
                sent = remind(program, expert_ids=None, actor=actor)
                flash(_("已向 %(n)s 位专家发送提醒。", n=sent), "success")
        except ReviewError as exc:
            _flash(exc.problems)
        return redirect(url_for("reviews.panel", program_id=program.id))
    assignments = program_assignments(program)
    matrix = {(a.application_id, a.expert_id): a for a in assignments}
    conflicts = {(app.id, e.id): conflict_reason(e, app) for app in applications for e in panel_experts}
    exclusions = db.session.scalars(select(ExclusionRequest).join(Application).where(
        Application.program_id == program.id).order_by(ExclusionRequest.id)).all()
    decision_form = ExclusionDecisionForm(prefix="excl")
    decision_form.expert_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(e.id, f"{e.display_name}（{e.affiliation or ''}）") for e in panel_experts]
    return render_template(
        "reviews/panel.html", program=program, form=form, manual=manual, applications=applications,
        experts=panel_experts, matrix=matrix, conflicts=conflicts, progress=progress(program),
        confirm=ConfirmForm(), reason_form=ReasonForm(), exclusions=exclusions, decision_form=decision_form,
        can_assign=program.phase in (Phase.formal_check, Phase.review),
    )


def _office_assignment(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


@bp.route("/assignments/<int:assignment_id>/remove", methods=["POST"])
@roles_required(Role.office)
def remove(assignment_id: int):
    assignment = _office_assignment(assignment_id)
    if ConfirmForm().validate_on_submit():
        try:
            remove_assignment(assignment, actor=current_user._get_current_object())
        except ReviewError as exc:
            _flash(exc.problems)
        else:
            flash(_("已撤销该评审任务。"), "success")
    return redirect(url_for("reviews.panel", program_id=assignment.application.program_id))


@bp.route("/assignments/<int:assignment_id>/reopen", methods=["POST"])
@roles_required(Role.office)
def reopen(assignment_id: int):
    assignment = _office_assignment(assignment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            reopen_review(assignment, reason=form.reason.data, actor=current_user._get_current_object())
        except ReviewError as exc:
            _flash(exc.problems)
        else:
            flash(_("已退回该评分，专家可修改后重新提交。"), "success")
    else:
        _flash([e for errors in form.errors.values() for e in errors])
    return redirect(url_for("reviews.panel", program_id=assignment.application.program_id))


@bp.route("/exclusions/<int:request_id>/decide", methods=["POST"])
@roles_required(Role.office)
def decide(request_id: int):
    record = db.session.get(ExclusionRequest, request_id)
    if record is None:
        abort(404)
    form = ExclusionDecisionForm(prefix="excl")
    if form.validate_on_submit():
        accept = request.form.get("action") == "accept"
        expert = db.session.get(User, form.expert_id.data) if form.expert_id.data else None
        try:
            decide_exclusion(record, accept=accept, expert=expert, note=form.note.data or "",
                             actor=current_user._get_current_object())
        except ReviewError as exc:
            _flash(exc.problems)
        else:
            flash(_("已处理回避申请。"), "success")
    return redirect(url_for("reviews.panel", program_id=record.application.program_id))


@bp.route("/applications/<int:application_id>/exclusions", methods=["POST"])
@roles_required(Role.applicant)
def request_exclusion_view(application_id: int):
    from webapp.applications.views import load_application

    application = load_application(application_id)
    form = ExclusionForm()
    if form.validate_on_submit():
        try:
            request_exclusion(application, expert_name=form.expert_name.data, affiliation=form.affiliation.data,
                              reason=form.reason.data, actor=current_user._get_current_object())
        except ReviewError as exc:
            _flash(exc.problems)
        else:
            flash(_("回避申请已提交，业务处室将逐一处理。"), "success")
    else:
        _flash([e for errors in form.errors.values() for e in errors])
    return redirect(url_for("applications.show", application_id=application.id))
