"""Sign-in, sign-out, password change and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from webapp.audit.operations import log_event
from webapp.auth.forms import ChangePasswordForm, LoginForm
from webapp.auth.operations import AccountError, authenticate, change_password
from webapp.auth.permissions import public
from webapp.core.timeutil import now

bp = Blueprint("auth", __name__)


def _fresh_session() -> None:
    """A new session at sign-in and sign-out (nothing carried over but the chosen language)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        outcome = authenticate(form.username.data, form.password.data)
        if outcome.user is not None:
            _fresh_session()
            login_user(outcome.user)
            session["seen"] = now().timestamp()
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        minutes = current_app.config["LOGIN_LOCK_MINUTES"]
        limit = current_app.config["LOGIN_MAX_FAILURES"]
        if outcome.locked:
            error = _("登录失败次数过多，该用户名已锁定 %(m)s 分钟，请稍后再试或联系系统管理员。", m=minutes)
        else:
            error = _(
                "用户名或密码不正确。连续失败 %(n)s 次后将锁定 %(m)s 分钟。", n=limit, m=minutes
            )
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    log_event("auth.logout", obj=current_user._get_current_object())
    logout_user()
    _fresh_session()
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
def change_password_view():
    form = ChangePasswordForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            change_password(
                current_user._get_current_object(),
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except AccountError as exc:
            problems = exc.problems
        else:
            flash(_("密码已修改。"), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form, problems=problems)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")) or url_for("home.index"))
