"""Landing pages: ``/`` sends each role to its own home."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.campaigns.models import Phase, ProgramKind
from webapp.campaigns.queries import all_campaigns

bp = Blueprint("home", __name__)

HOME_OF_ROLE = {
    Role.applicant: "home.applicant",
    Role.expert: "reviews.index",
    Role.office: "campaigns.index",
    Role.finance: "home.finance",
    Role.auditor: "audit.index",
    Role.sysadmin: "admin.users",
}


@bp.route("/")
def index():
    return redirect(url_for(HOME_OF_ROLE[Role(current_user.role)]))


@bp.route("/portal")
@roles_required(Role.applicant)
def applicant():
    from webapp.applications.forms import ConfirmForm
    from webapp.applications.operations import find_application, missing_parts
    from webapp.applications.rules import accepting
    from webapp.core.timeutil import now

    unit = current_user.unit
    rows = []
    for campaign in all_campaigns():
        for program in campaign.programs:
            if Phase(program.phase) == Phase.setup:
                continue
            application = find_application(program, unit)
            if application is None and ProgramKind(program.kind) == ProgramKind.pilot:
                continue  # pilot applications are by invitation only
            rows.append({
                "program": program,
                "application": application,
                "missing": missing_parts(application) if application else [],
                "accepting": accepting(program, now()),
            })
    return render_template("home/applicant.html", unit=unit, rows=rows, confirm=ConfirmForm())


@bp.route("/finance")
@roles_required(Role.finance)
def finance():
    from webapp.payments.operations import award_lines

    rows, overdue, campaigns = [], [], []
    for campaign in all_campaigns():
        final_any = False
        for program in campaign.programs:
            lines = award_lines(program)
            final = Phase(program.phase) in (Phase.final, Phase.paid)
            final_any = final_any or final
            overdue += [line for line in lines if line.overdue]
            rows.append({"program": program, "final": final, "total": sum((line.decision.amount for line in lines), 0),
                         "paid": sum((line.decision.amount for line in lines if line.payment), 0)})
        campaigns.append({"campaign": campaign, "final": final_any})
    return render_template("home/finance.html", rows=rows, overdue=overdue, campaigns=campaigns)
