"""The demo campaign (``flask seed demo``): 2014, both programs, an account for every role.

Everything here goes through the same operations as the web pages, with the clock set to the
dates on which each step would really have happened, so the audit log tells a believable story.
Figures are illustrative, not real statistics.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from webapp.auth.models import ApplicantRole, Role, User
from webapp.auth.operations import create_user
from webapp.auth.passwords import hash_password
from webapp.campaigns.models import Campaign, Phase, ProgramKind
from webapp.campaigns.operations import add_program, advance_phase, create_campaign
from webapp.core.db import db
from webapp.core.timeutil import beijing_datetime
from webapp.units.models import Unit, UnitCategory

DEMO_PASSWORD = "Kexie@2014demo"
DEMO_YEAR = 2014


class DemoError(RuntimeError):
    pass


@contextmanager
def clock_at(moment: datetime):
    """Run the enclosed operations as if it were ``moment`` (restores the previous clock)."""
    config = current_app.config
    previous = config.get("FROZEN_NOW")
    config["FROZEN_NOW"] = moment
    try:
        yield
    finally:
        config["FROZEN_NOW"] = previous


def _bj(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return beijing_datetime(date(y, m, d), time(hh, mm))


STAFF = [
    # username, name, role, extra
    ("admin", "系统管理员（演示）", Role.sysadmin, {}),
    ("auditor", "审计管理员（演示）", Role.auditor, {}),
    ("office", "企业工作处 王处长（演示）", Role.office, {}),
    ("office2", "企业工作处 李干事（演示）", Role.office, {}),
    ("finance", "计划财务部 赵会计（演示）", Role.finance, {}),
]

EXPERTS = [
    # username, name, home region code, affiliation
    ("expert01", "陈教授（演示）", "110000", "清华大学"),
    ("expert02", "刘研究员（演示）", "310000", "上海科学院"),
    ("expert03", "张教授（演示）", "420000", "武汉大学"),
]


def build_demo() -> str:
    """Create the demo campaign and accounts; returns the text to print (the logins)."""
    if db.session.scalar(select(Campaign).where(Campaign.year == DEMO_YEAR)) is not None:
        raise DemoError("演示数据已存在。请用 make demo（它会从空数据库重新建立演示）。")
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    if len(units) < 47:
        raise DemoError("请先运行 flask seed units 载入 47 个申报单位。")

    shared_hash = hash_password(DEMO_PASSWORD)  # one published demo password: hash it once
    with clock_at(_bj(DEMO_YEAR, 6, 4)):
        for username, name, role, _extra in STAFF:
            create_user(username=username, display_name=name, password=DEMO_PASSWORD, role=role,
                        must_change_password=False, password_hash=shared_hash, actor="演示数据")
        for username, name, region, affiliation in EXPERTS:
            create_user(username=username, display_name=name, password=DEMO_PASSWORD, role=Role.expert,
                        home_region=units[region], affiliation=affiliation, must_change_password=False,
                        password_hash=shared_hash, actor="演示数据")
        for unit in sorted(units.values(), key=lambda u: u.sort_key):
            for suffix, arole, title in (("c", ApplicantRole.clerk, "填报员"), ("l", ApplicantRole.leader, "负责人")):
                create_user(
                    username=f"u{unit.code}{suffix}",
                    display_name=f"{unit.region}科协{title}（演示）",
                    password=DEMO_PASSWORD,
                    role=Role.applicant,
                    unit=unit,
                    applicant_role=arole,
                    must_change_password=False,
                    password_hash=shared_hash,
                    actor="演示数据",
                )
        office = db.session.scalar(select(User).where(User.username == "office"))
        campaign = create_campaign(
            year=DEMO_YEAR,
            title="2014年度企业科协组织建设试点示范与后补助评审（演示）",
        )
        post = add_program(
            campaign,
            kind=ProgramKind.post_subsidy,
            rubric_file="cast-2014-post-subsidy.toml",
            submission_deadline=beijing_datetime(date(DEMO_YEAR, 10, 31), time(23, 59, 59)),
            budget=Decimal("1500000"),
        )
        pilot = add_program(
            campaign,
            kind=ProgramKind.pilot,
            rubric_file="cast-2014-pilot.toml",
            submission_deadline=beijing_datetime(date(DEMO_YEAR, 7, 31), time(23, 59, 59)),
            budget=Decimal("1000000"),
        )
    with clock_at(_bj(DEMO_YEAR, 6, 10)):
        advance_phase(pilot, Phase.open, reason="邀请申报", actor=office)
        advance_phase(post, Phase.open, reason="按实施方案开放申报", actor=office)
    db.session.flush()

    lines = [
        "演示数据已建立：2014 年度活动（后补助、试点示范两个项目）。",
        f"所有演示账户的密码均为：{DEMO_PASSWORD}",
        "",
        "角色          用户名",
        "系统管理员    admin",
        "审计管理员    auditor",
        "业务处室      office、office2",
        "计划财务部    finance",
        "评审专家      " + "、".join(e[0] for e in EXPERTS),
        "申报单位      u<单位代码>c（填报员）、u<单位代码>l（负责人），例如 u110000c、u110000l（北京）、"
        "u210200l（大连）",
        "",
        f"申报单位共 {sum(1 for u in units.values() if u.category != UnitCategory.city)} 个省级（含兵团）、"
        f"{sum(1 for u in units.values() if u.category == UnitCategory.city)} 个副省级城市。",
        "打开 http://127.0.0.1:5000 登录。",
    ]
    return "\n".join(lines)
