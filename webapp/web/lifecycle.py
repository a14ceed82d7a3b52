"""What happens around every request: sign-in, idle timeout, forced password change, the single
commit, security headers and error pages."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from webapp.core.db import db
from webapp.core.i18n import N_
from webapp.core.timeutil import now
from webapp.extensions import login_manager

# Endpoints a user who must change the password may still reach.
_PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "auth.set_language"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("请先登录。")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from webapp.auth.models import User

        return db.session.get(User, int(user_id))

    @app.before_request
    def require_login_and_check_session():
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if request.endpoint == "static" or (view is not None and getattr(view, "is_public", False)):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        stamp = session.get("seen")
        current = now()
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        if stamp is not None and current.timestamp() - stamp > idle.total_seconds():
            logout_user()
            session.clear()
            flash(gettext("长时间未操作，会话已结束，请重新登录。"), "warning")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        session["seen"] = current.timestamp()
        session.permanent = True
        if current_user.must_change_password and request.endpoint not in _PASSWORD_CHANGE_ALLOWED:
            flash(gettext("首次登录或密码被重置后，请先修改密码。"), "warning")
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def commit_once(response):
        # The one commit point of a request: operations only flush. Error responses roll back.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_template("errors/error.html", code=400, title=N_("页面已过期"),
                               message=N_("表单已过期或来源不明（CSRF 校验失败）。请返回、刷新页面后重新提交。")), 400

    @app.errorhandler(403)
    def forbidden(exc):
        reason = g.get("denied_reason") or N_("您没有访问此页面的权限。")
        return render_template("errors/error.html", code=403, title=N_("无权访问"), message=reason), 403

    @app.errorhandler(404)
    def not_found(exc):
        return render_template("errors/error.html", code=404, title=N_("页面不存在"),
                               message=N_("您要找的页面不存在，或您无权查看。")), 404

    @app.errorhandler(405)
    def method_not_allowed(exc):
        return render_template("errors/error.html", code=405, title=N_("不支持的操作"),
                               message=N_("此页面不支持该请求方式。")), 405

    @app.errorhandler(413)
    def too_large(exc):
        return render_template("errors/error.html", code=413, title=N_("文件过大"),
                               message=N_("上传的内容超过大小限制，请压缩或拆分后重试。")), 413
