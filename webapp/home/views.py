"""Landing pages: ``/`` sends each role to its own home."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.campaigns.models import Phase
from webapp.campaigns.queries import all_campaigns

bp = Blueprint("home", __name__)

HOME_OF_ROLE = {
    Role.applicant: "home.applicant",
    Role.expert: "home.expert",
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
    programs = [p for c in all_campaigns() for p in c.programs if Phase(p.phase) != Phase.setup]
    return render_template("home/applicant.html", unit=current_user.unit, programs=programs)


@bp.route("/expert")
@roles_required(Role.expert)
def expert():
    programs = [p for c in all_campaigns() for p in c.programs if Phase(p.phase) != Phase.setup]
    return render_template("home/expert.html", programs=programs)


@bp.route("/finance")
@roles_required(Role.finance)
def finance():
    programs = [p for c in all_campaigns() for p in c.programs]
    return render_template("home/finance.html", programs=programs)
