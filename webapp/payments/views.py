"""Finance's payment register: record date and voucher per award; overdue ones stand out."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.campaigns.queries import get_program_or_404
from webapp.core.db import db
from webapp.payments.operations import PaymentError, award_lines, due_date, record_payment
from webapp.results.models import Decision

bp = Blueprint("payments", __name__)


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("/programs/<int:program_id>/payments", methods=["GET", "POST"])
@roles_required(Role.finance, Role.office)
def register(program_id: int):
    program = get_program_or_404(program_id)
    if request.method == "POST":
        if Role(current_user.role) != Role.finance:
            abort(403)
        if ConfirmForm().validate_on_submit():
            decision = db.session.get(Decision, request.form.get("decision_id", type=int))
            if decision is None or decision.application.program_id != program.id:
                abort(404)
            try:
                paid_on = date.fromisoformat(request.form.get("paid_on", ""))
            except ValueError:
                flash(_("请按 年-月-日 填写拨付日期。"), "danger")
                return redirect(url_for("payments.register", program_id=program.id))
            try:
                record_payment(decision, paid_on=paid_on, voucher_no=request.form.get("voucher_no", ""),
                               actor=current_user._get_current_object())
            except PaymentError as exc:
                for problem in exc.problems:
                    flash(problem, "danger")
            else:
                flash(_("已登记 %(unit)s 的拨付。", unit=decision.application.unit.name), "success")
        return redirect(url_for("payments.register", program_id=program.id))
    lines = award_lines(program)
    return render_template("payments/register.html", program=program, lines=lines, due=due_date(program),
                           confirm=ConfirmForm(), total=sum((line.decision.amount for line in lines), 0),
                           paid=sum((line.decision.amount for line in lines if line.payment), 0))
