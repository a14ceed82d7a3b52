"""Office pages for campaigns and programs; finance and the auditor may read them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.audit.models import AuditEvent
from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.campaigns.forms import AdvanceForm, CampaignForm, ProgramForm
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.campaigns.operations import (
    CampaignError,
    add_program,
    advance_phase,
    create_campaign,
    update_program,
)
from webapp.campaigns.queries import all_campaigns, get_campaign_or_404, get_program_or_404
from webapp.campaigns.rubrics import available_rubrics, rubric_of
from webapp.campaigns.workflow import VIA_OPERATION, check_move, next_phase
from webapp.core.db import db
from webapp.core.timeutil import beijing, beijing_datetime, now

bp = Blueprint("campaigns", __name__)

READERS = (Role.office, Role.finance, Role.auditor)


def _rubric_choices(kind: str | None = None) -> list[SelectChoice]:
    return [SelectChoice(r.name, f"{r.title}（{r.name}）") for r in available_rubrics(kind)]


@bp.route("/campaigns")
@roles_required(*READERS)
def index():
    return render_template("campaigns/index.html", campaigns=all_campaigns())


@bp.route("/campaigns/new", methods=["GET", "POST"])
@roles_required(Role.office)
def new():
    form = CampaignForm()
    program_form = ProgramForm(prefix="ps")
    program_form.rubric_file.choices = _rubric_choices("post_subsidy")
    pilot_form = ProgramForm(prefix="pilot")
    pilot_form.rubric_file.choices = _rubric_choices("pilot")
    wants_pilot = request.form.get("with_pilot") == "y"
    problems: list[str] = []
    if request.method == "GET":
        year = beijing(now()).year
        form.year.data = year
        form.title.data = f"{year}年度企业科协组织建设试点示范与后补助评审"
        program_form.default_deadline(year)
        pilot_form.default_deadline(year)
    forms_ok = form.validate_on_submit() and program_form.validate() and (not wants_pilot or pilot_form.validate())
    if forms_ok:
        try:
            campaign = create_campaign(
                year=form.year.data,
                title=form.title.data,
                corps_conflicts_with_xinjiang=form.corps_conflicts_with_xinjiang.data,
                pilot_may_also_get_post_subsidy=form.pilot_may_also_get_post_subsidy.data,
            )
            for kind, pform in ((ProgramKind.post_subsidy, program_form), (ProgramKind.pilot, pilot_form)):
                if kind == ProgramKind.pilot and not wants_pilot:
                    continue
                add_program(
                    campaign,
                    kind=kind,
                    rubric_file=pform.rubric_file.data,
                    submission_deadline=beijing_datetime(pform.deadline_date.data, pform.deadline_time.data),
                    budget=pform.budget.data,
                )
        except CampaignError as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            flash(_("已创建 %(year)s 年度评审活动。", year=campaign.year), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template(
        "campaigns/new.html", form=form, program_form=program_form, pilot_form=pilot_form,
        wants_pilot=wants_pilot or request.method == "GET", problems=problems,
    )


@bp.route("/campaigns/<int:campaign_id>")
@roles_required(*READERS)
def show(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    moves = {}
    for program in campaign.programs:
        target = next_phase(Phase(program.phase))
        moves[program.id] = (target, check_move(program, target, now()) if target else None)
    history = {
        p.id: list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "programs", AuditEvent.object_id == str(p.id),
                       AuditEvent.action == "program.phase")
                .order_by(AuditEvent.id)
            )
        )
        for p in campaign.programs
    }
    return render_template("campaigns/show.html", campaign=campaign, moves=moves, history=history,
                           advance_form=AdvanceForm(), phases=list(Phase),
                           via_operation={phase: _(text) for phase, text in VIA_OPERATION.items()})


@bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@roles_required(Role.office)
def edit_program(program_id: int):
    program = get_program_or_404(program_id)
    form = ProgramForm()
    form.rubric_file.choices = _rubric_choices(program.kind)
    problems: list[str] = []
    if request.method == "GET":
        local = beijing(program.submission_deadline)
        form.rubric_file.data = program.rubric_file
        form.deadline_date.data = local.date()
        form.deadline_time.data = local.time()
        form.budget.data = program.budget
    elif form.validate_on_submit():
        try:
            update_program(
                program,
                rubric_file=form.rubric_file.data,
                submission_deadline=beijing_datetime(form.deadline_date.data, form.deadline_time.data),
                budget=form.budget.data,
            )
        except CampaignError as exc:
            problems = exc.problems
        else:
            flash(_("项目设置已保存。"), "success")
            return redirect(url_for("campaigns.show", campaign_id=program.campaign_id))
    return render_template("campaigns/edit_program.html", program=program, form=form, problems=problems)


@bp.route("/programs/<int:program_id>/advance", methods=["POST"])
@roles_required(Role.office)
def advance(program_id: int):
    program = get_program_or_404(program_id)
    form = AdvanceForm()
    if form.validate_on_submit():
        try:
            target = Phase(form.target.data)
        except ValueError:
            flash(_("未知阶段。"), "danger")
        else:
            if target in VIA_OPERATION:
                flash(_(VIA_OPERATION[target]), "warning")
                return redirect(url_for("campaigns.show", campaign_id=program.campaign_id))
            try:
                advance_phase(program, target, reason=form.note.data or "")
            except CampaignError as exc:
                for problem in exc.problems:
                    flash(problem, "danger")
            else:
                flash(_("%(title)s 已进入“%(phase)s”阶段。", title=program.title, phase=_(target.label)), "success")
    return redirect(url_for("campaigns.show", campaign_id=program.campaign_id))


@bp.route("/programs/<int:program_id>/rubric")
@roles_required(*READERS)
def rubric(program_id: int):
    program: Program = get_program_or_404(program_id)
    return render_template("campaigns/rubric.html", program=program, rubric=rubric_of(program))
