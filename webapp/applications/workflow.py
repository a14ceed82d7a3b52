"""Phase guards contributed by the applicant portal (registered on import)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.applications.models import Application, ApplicationStatus
from webapp.auth.permissions import ALLOW, Decision, deny
from webapp.campaigns.models import Phase, Program
from webapp.campaigns.workflow import guard
from webapp.core.db import db


@guard(Phase.formal_check, Phase.review)
def _every_submission_checked(program: Program, at: datetime) -> Decision:
    pending = db.session.scalar(
        select(func.count())
        .select_from(Application)
        .where(
            Application.program_id == program.id,
            Application.status.in_([ApplicationStatus.submitted, ApplicationStatus.returned]),
        )
    )
    if pending:
        return deny(
            _(
                "还有 %(n)s 份申报未完成形式审查（含退回补正中的），请全部审查后再进入专家评审。",
                n=pending,
            )
        )
    passed = db.session.scalar(
        select(func.count())
        .select_from(Application)
        .where(Application.program_id == program.id, Application.status == ApplicationStatus.passed)
    )
    if not passed:
        return deny(_("没有通过形式审查的申报，无法进入专家评审。"))
    return ALLOW
