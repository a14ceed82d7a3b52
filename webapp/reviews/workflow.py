"""Phase guards contributed by expert review."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.applications.models import Application, ApplicationStatus
from webapp.auth.permissions import ALLOW, Decision, deny
from webapp.campaigns.models import Phase, Program
from webapp.campaigns.workflow import guard
from webapp.core.db import db
from webapp.reviews.models import Assignment, AssignmentStatus


@guard(Phase.review, Phase.panel)
def _every_review_submitted(program: Program, at: datetime) -> Decision:
    base = select(func.count()).select_from(Assignment).join(Application).where(Application.program_id == program.id)
    pending = db.session.scalar(base.where(Assignment.status == AssignmentStatus.assigned))
    if pending:
        return deny(_("还有 %(n)s 份评审未提交，全部提交后才能进入结果会商。", n=pending))
    unreviewed = db.session.scalar(
        select(func.count()).select_from(Application).where(
            Application.program_id == program.id, Application.status == ApplicationStatus.passed,
            ~Application.id.in_(select(Assignment.application_id).where(
                Assignment.status == AssignmentStatus.submitted))))
    if unreviewed:
        return deny(_("有 %(n)s 份通过形式审查的申报没有任何已提交的评审。", n=unreviewed))
    return ALLOW
