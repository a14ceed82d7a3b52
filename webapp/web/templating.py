"""Locale selection, template filters (Beijing time, money) and the per-role navigation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import gettext as _
from flask_login import current_user

from webapp.auth.models import Role
from webapp.core.timeutil import format_beijing, now


def select_locale() -> str:
    """The interface language: the visitor's choice in the session, else Chinese. Outside a request (the
    ``flask`` commands) it is always the default, so messages keep their Chinese text there."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def format_yuan(value, decimals: int = 2) -> str:
    """Yuan with thousands separators: 1500000 → "1,500,000.00"."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{amount:,.{decimals}f}"


def format_wan(value, decimals: int = 2) -> str:
    """Amount in 万元 as officials write it: 1500000 → "150.00"."""
    if value is None or value == "":
        return ""
    amount = (Decimal(str(value)) / Decimal(10000)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{amount:,.{decimals}f}"


def format_datetime_bj(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return format_beijing(value, fmt)


def format_date(value: date | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


# Navigation per role: (endpoint, label). Labels are translated at render time.
NAV: dict[Role, list[tuple[str, str]]] = {
    Role.applicant: [("home.applicant", "申报首页")],
    Role.expert: [("reviews.index", "评审任务"), ("reviews.sheet", "评分表"), ("inspection.mine", "名册核查")],
    Role.office: [("campaigns.index", "评审活动"), ("campaigns.new", "新建年度活动")],
    Role.finance: [("home.finance", "财务首页"), ("campaigns.index", "评审活动")],
    Role.auditor: [("audit.index", "审计日志"), ("audit.verify", "链完整性"), ("campaigns.index", "评审活动")],
    Role.sysadmin: [("admin.users", "账户管理"), ("admin.new_user", "新建账户")],
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["bjtime"] = format_datetime_bj
    app.jinja_env.filters["yuan"] = format_yuan
    app.jinja_env.filters["wan"] = format_wan
    app.jinja_env.filters["isodate"] = format_date

    @app.context_processor
    def inject_layout():
        items = []
        if current_user.is_authenticated:
            items = [(endpoint, _(label)) for endpoint, label in NAV[Role(current_user.role)]]
        return {
            "nav_items": items,
            "beijing_now": format_beijing(now(), "%Y-%m-%d %H:%M"),
            "current_locale": select_locale(),
            "current_endpoint": request.endpoint,
        }
