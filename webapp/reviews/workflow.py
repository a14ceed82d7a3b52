"""Phase guards contributed by expert review."""

from __future__ import annotations

from datetime import datetime

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
        return deny(f"还有 {pending} 份评审未提交，全部提交后才能进入结果会商。")
    unreviewed = db.session.scalar(
        select(func.count()).select_from(Application).where(
            Application.program_id == program.id, Application.status == ApplicationStatus.passed,
            ~Application.id.in_(select(Assignment.application_id).where(
                Assignment.status == AssignmentStatus.submitted))))
    if unreviewed:
        return deny(f"有 {unreviewed} 份通过形式审查的申报没有任何已提交的评审。")
    return ALLOW
