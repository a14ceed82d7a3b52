"""The system administrator's account pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.admin.forms import ConfirmForm, NewUserForm
from webapp.auth.models import ApplicantRole, Role, User
from webapp.auth.operations import AccountError, create_user, is_locked, reset_password, set_enabled, unlock
from webapp.auth.passwords import generate_password
from webapp.auth.permissions import roles_required
from webapp.core.db import db
from webapp.units.models import Unit

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users")
@roles_required(Role.sysadmin)
def users():
    role = request.args.get("role", "")
    query = select(User).order_by(User.role, User.username)
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    rows = db.session.scalars(query).all()
    locked = {u.id for u in rows if is_locked(u.username)}
    return render_template("admin/users.html", users=rows, locked=locked, role=role, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.sysadmin)
def new_user():
    form = NewUserForm()
    units = db.session.scalars(select(Unit)).all()
    units.sort(key=lambda u: u.sort_key)
    choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, f"{u.code} {u.name}") for u in units]
    form.unit_id.choices = choices
    form.home_region_id.choices = choices
    problems: list[str] = []
    if form.validate_on_submit():
        role = Role(form.role.data)
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        region = db.session.get(Unit, form.home_region_id.data) if form.home_region_id.data else None
        password = generate_password()
        try:
            user = create_user(
                username=form.username.data,
                display_name=form.display_name.data,
                password=password,
                role=role,
                unit=unit if role == Role.applicant else None,
                applicant_role=ApplicantRole(form.applicant_role.data)
                if role == Role.applicant and form.applicant_role.data
                else None,
                home_region=region if role == Role.expert else None,
                affiliation=form.affiliation.data,
                phone=form.phone.data,
                email=form.email.data,
            )
        except AccountError as exc:
            problems = exc.problems
        else:
            return render_template("admin/password_issued.html", user=user, password=password, created=True)
    return render_template("admin/new_user.html", form=form, problems=problems)


@bp.route("/users/<int:user_id>")
@roles_required(Role.sysadmin)
def user(user_id: int):
    account = _get_user_or_404(user_id)
    return render_template("admin/user.html", account=account, locked=is_locked(account.username),
                           form=ConfirmForm())


@bp.route("/users/<int:user_id>/<any(enable,disable):action>", methods=["POST"])
@roles_required(Role.sysadmin)
def toggle(user_id: int, action: str):
    account = _get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            set_enabled(account, action == "enable", actor=current_user._get_current_object())
        except AccountError as exc:
            for problem in exc.problems:
                flash(problem, "danger")
        else:
            flash(_("账户已启用。") if action == "enable" else _("账户已停用。"), "success")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
@roles_required(Role.sysadmin)
def reset(user_id: int):
    account = _get_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("admin.user", user_id=account.id))
    password = generate_password()
    reset_password(account, new_password=password, actor=current_user._get_current_object())
    return render_template("admin/password_issued.html", user=account, password=password, created=False)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required(Role.sysadmin)
def unlock_user(user_id: int):
    account = _get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        unlock(account, actor=current_user._get_current_object())
        flash(_("已解除锁定。"), "success")
    return redirect(url_for("admin.user", user_id=account.id))
