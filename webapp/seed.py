"""The demo campaign (``flask seed demo``): 2014, both programs, an account for every role.

Everything here goes through the same operations as the web pages, with the clock set to the
dates on which each step would really have happened, so the audit log tells a believable story:
the year's targets (national targets set and allocated to the units by regulated enterprises in June,
one unit's tasks cut after the August earthquake), the pilot program (office nominations in June,
submissions in July, all passed in August, reviewed by the panel of nine experts, decided and published,
final on 9 September, all awards but one paid by finance before 30 September) and the post-subsidy program
(figures and files in September–October, submissions until 31 October, some withdrawn and resubmitted,
drafts that never got finished, units that never started, the formal check in early November, roster
spot checks from 10 November (one unit's sample half dormant or not found, one check still open), the
review in the second half of November with a declared conflict and a reopened review, results and
decisions on 1–3 December with one change by the office, and publicity from 8 December with two
real-name objections, one concluded), and the office's draft of the commendation notice. The pilot
program is final with one award overdue; the post-subsidy program is left in publicity with one objection
still under investigation.

Figures are illustrative, not real statistics (演示数据，非真实统计): see ``webapp.demo_data``.
"""

from __future__ import annotations

import heapq
import io
import math
import random
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from webapp import demo_data
from webapp.applications import operations as ops
from webapp.applications.models import Application, ApplicationStatus, CheckDecision
from webapp.audit.operations import log_event
from webapp.auth.models import ApplicantRole, Role, User
from webapp.auth.operations import create_user
from webapp.auth.passwords import hash_password
from webapp.campaigns.models import Campaign, Phase, ProgramKind
from webapp.campaigns.operations import add_program, advance_phase, apply_due_transitions, create_campaign
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import beijing_datetime, format_beijing, now
from webapp.core.workdays import is_workday
from webapp.exports.data import default_draft, get_draft
from webapp.exports.models import NoticeDraft, NoticeKind
from webapp.exports.notices import validate_doc_number
from webapp.inspection.models import CheckStatus, SpotCheck, SpotCheckEntry
from webapp.inspection.operations import (
    adjust_target,
    allocate_targets,
    create_spot_check,
    criticism_candidates,
    effective_new,
    national_target,
    record_check,
    set_national_target,
    unit_targets,
)
from webapp.payments.operations import award_lines, due_date, record_payment
from webapp.publicity.models import Conclusion, Objection
from webapp.publicity.operations import (
    finalise,
    latest_round,
    lodge_objection,
    objections,
    open_round,
    record_entry,
)
from webapp.results.models import DecisionKind, ResultRun
from webapp.results.operations import (
    adopt_proposals,
    change_decision,
    current_decisions,
    ranked_applications,
    run_results,
)
from webapp.reviews.models import ACTIVE, Assignment, AssignmentStatus
from webapp.reviews.operations import (
    assign_full_panel,
    declare_conflict,
    program_assignments,
    remind,
    reopen_review,
    save_review,
)
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
    # username, name, home region code (conflicts follow it), affiliation
    ("expert01", "陈教授（演示）", "110000", "清华大学公共管理学院"),
    ("expert02", "刘研究员（演示）", "310000", "上海科学院"),
    ("expert03", "张教授（演示）", "420000", "武汉大学经济与管理学院"),
    ("expert04", "王教授（演示）", "370200", "中国海洋大学管理学院"),  # 青岛: conflicts with 山东 and 青岛
    ("expert05", "李研究员（演示）", "650000", "中国科学院新疆分院"),  # 新疆: conflicts with 兵团 too
    ("expert06", "周教授（演示）", "120000", "南开大学经济学院"),
    ("expert07", "吴教授（演示）", "340000", "中国科学技术大学管理学院"),
    ("expert08", "郑研究员（演示）", "500000", "重庆市科学技术研究院"),
    ("expert09", "何研究员（演示）", "410000", "河南省科学院"),
]
# How each expert scores (illustrative): leniency shifts the share of the maximum, spread is the noise.
EXPERT_STYLE = {
    "expert01": (0.00, 0.035),
    "expert02": (0.06, 0.04),  # generous
    "expert03": (-0.01, 0.04),
    "expert04": (0.02, 0.035),
    "expert05": (-0.02, 0.05),
    "expert06": (0.01, 0.04),
    "expert07": (-0.07, 0.04),  # strict
    "expert08": (0.03, 0.045),
    "expert09": (0.00, 0.10),  # erratic: the diagnostics flag the consistency
}


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
            create_user(
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                role=role,
                must_change_password=False,
                password_hash=shared_hash,
                actor="演示数据",
            )
        for username, name, region, affiliation in EXPERTS:
            create_user(
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                role=Role.expert,
                home_region=units[region],
                affiliation=affiliation,
                must_change_password=False,
                password_hash=shared_hash,
                actor="演示数据",
            )
        for unit in sorted(units.values(), key=lambda u: u.sort_key):
            for suffix, arole, title in (
                ("c", ApplicantRole.clerk, "填报员"),
                ("l", ApplicantRole.leader, "负责人"),
            ):
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
    # Read the programs back as stored (budget 1500000 → 1500000.00): the results' input fingerprint includes
    # the budget's text, so a run made on the unsaved value would look outdated once the page reloads it.
    db.session.refresh(post)
    db.session.refresh(pilot)
    with clock_at(_bj(DEMO_YEAR, 6, 10)):
        advance_phase(pilot, Phase.open, reason="邀请申报", actor=office)
        advance_phase(post, Phase.open, reason="按实施方案开放申报", actor=office)
    db.session.flush()

    story = _Story(units, pilot=pilot, post=post, office=office)
    story.plan()
    story.run()

    lines = [
        "演示数据已建立：2014 年度活动（后补助、试点示范两个项目）。",
        f"所有演示账户的密码均为：{DEMO_PASSWORD}",
        "",
        "角色          用户名",
        "系统管理员    admin",
        "审计管理员    auditor",
        "业务处室      office、office2",
        "计划财务部    finance",
        "评审专家      "
        + "、".join(f"{e[0]}（{units[e[2]].region}）" for e in EXPERTS)
        + "：与申报单位同地区（含副省级城市与所在省、兵团与新疆）的自动回避",
        "申报单位      u<单位代码>c（填报员）、u<单位代码>l（负责人），例如 u110000c、u110000l（北京）、"
        "u210200l（大连）",
        "",
        f"申报单位共 {sum(1 for u in units.values() if u.category != UnitCategory.city)} 个省级（含兵团）、"
        f"{sum(1 for u in units.values() if u.category == UnitCategory.city)} 个副省级城市。",
        "",
        *story.summary(),
        "",
        "打开 http://127.0.0.1:5000 登录。",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ the story
# Post-subsidy: who is in which state. Every unit not named here submits on time and is checked.
NEVER_STARTED = ("140000", "460000", "540000", "630000", "220100", "350200")
DRAFTS = {  # incomplete drafts at the deadline, each missing something else
    "150000": "figures_only",
    "230000": "some_evidence",
    "640000": "partial_figures",
    "520000": "no_recommendation",
    "210100": "no_letter",
}
WITHDRAWN = {  # withdrew once before the deadline, changed something, resubmitted
    "130000": "figures",
    "430000": "evidence",
    "330200": "letter",
}
ROSTER_SHORT = "510000"  # the roster lacks the two latest associations (count mismatch)
ROSTER_DUPLICATE = "370200"  # one association entered twice (duplicate flagged, count mismatch)
RETURNED_RESUBMITTED = "360000"  # returned for correction, added the material and resubmitted in time
RETURNED_OPEN = "610100"  # returned for correction, did not resubmit
REJECTED = "620000"
UNDECIDED = 8  # the latest submissions, checked last (on 7 November, with the resubmitted one)
PILOT = ("320000", "330000", "370000", "420000", "440000", "440300")
# Expert review (post-subsidy): one declared conflict, one submitted review reopened by the office, two
# experts who finish late (and get the office's reminder on 24 November).
DECLARES = ("expert01", "130000")
DECLARE_REASON = (
    "本人2013年至2014年受河北省科协委托承担企业科协组织建设调研课题，与申报单位存在合作关系，按规定申明回避。"
)
REOPENED = ("expert06", "350000")
POST_LATE = {"expert05": date(DEMO_YEAR, 11, 28), "expert08": date(DEMO_YEAR, 11, 27)}
# How to object (实施方案, seed 002): shown on the public page for the whole period.
PUBLICITY_CONTACT = (
    "中国科协计划财务部；联系电话：010-68571894；地址：北京市海淀区复兴路3号科技会堂1903室（邮编：100863）。"
    "异议须以真实姓名提出，写明工作单位和联系电话，并附必要的证明材料；匿名或逾期的异议不予受理。"
)
OBJECTORS = (  # name, organisation ({place} = the unit's first city), phone, IP address
    ("孙立新（演示）", "{place}恒达科技咨询有限公司", "13800138000", "203.0.113.24"),
    ("吴丽华（演示）", "{place}鑫源会计师事务所", "13900139000", "198.51.100.73"),
)

# Targets (任务分配, seed 002): the national targets (counts in demo_data.NATIONAL_TARGETS; coverage of parks,
# of national-level parks, and the enterprise coverage the year starts from), then the office's one adjustment.
NATIONAL_COVERAGE = (Decimal("0.25"), Decimal("0.40"), Decimal("0.061"))
ADJUSTMENT_REASON = (
    "2014年8月3日云南省昭通市鲁甸县发生6.5级地震，灾区企业生产经营受到严重影响，云南省科协来函申请调减年度任务。"
    "经研究，云南省2014年新建企业科协和建立科协联系人制度企业的任务均按分配数的60%核定。"
)
# Roster spot checks (抽查, October–November): unit, inspector, sample size (None: the default max(5, 5%)),
# the recorded seed, and what the inspector finds. The laggard's sample is half dormant or not found; the
# last check is still in progress when the results are run, so its claimed figure counts.
SPOT_CHECKS = (
    (demo_data.LAGGARD, "expert03", 10, 583201467, "hollow"),
    ("340000", "expert01", None, 190724385, "verified"),
    ("410000", "expert06", None, 772604913, "one_dormant"),
    ("440100", "office", None, 346118250, "verified"),
    ("210200", "expert05", None, 928457016, "verified"),
    ("500000", "expert07", None, 415063872, "incomplete"),
)
# The commendation notice as the office last saved it (发文字号 and 成文日期 filled in).
NOTICE_DOC_NUMBER = "科协函企字〔2014〕96号"
NOTICE_DATE = date(DEMO_YEAR, 12, 26)

POST_EVIDENCE = {
    "leadership": ("关于加强企业科协组织建设工作的通知", "企业科协组织建设工作领导小组成立文件"),
    "planning": ("2014年企业科协组织建设工作推进计划", "本地区企业和园区情况调研报告"),
    "quality": ("新建企业科协“一强五有”达标情况汇总", "企业科协整顿和规范情况说明"),
    "services": ("院士专家工作站和学会服务站建设情况", "“讲理想、比创新、比贡献”活动总结"),
    "timeliness": ("2014年企业科协组织建设工作总结", "检查考核自查报告"),
}
PILOT_EVIDENCE = {
    "attention_planning": ("企业科协组织建设发展规划（2014—2016年）", "2014年度企业科协工作计划"),
    "demonstration": ("服务企业技术创新特色工作案例汇编", "海智计划工作基地建设情况"),
    "research_visit": ("调研考察接待情况及活动信息汇编",),
    "matching_commitment": ("自筹配套资金承诺函", "配套资金预算安排说明"),
}


def _at(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return beijing_datetime(day, time(hh, mm, ss))


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class _Story:
    """Plans every step of the demo on a timeline, then replays it in date order with the clock set."""

    def __init__(self, units: dict[str, Unit], *, pilot, post, office: User):
        self.units = units
        self.pilot, self.post, self.office = pilot, post, office
        self.rng = random.Random(DEMO_YEAR)
        self.plans = demo_data.demo_plans(units.values())
        names = [f"u{code}{suffix}" for code in units for suffix in "cl"]
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
        self.clerk = {code: users[f"u{code}c"] for code in units}
        self.leader = {code: users[f"u{code}l"] for code in units}
        self.apps: dict[tuple[str, str], Application] = {}
        self.steps: list[tuple[datetime, int, Callable[[], None]]] = []  # a heap
        self.sequence = 0
        self.rubrics = {"pilot": rubric_of(pilot), "post": rubric_of(post)}
        self.submitted_at: dict[str, datetime] = {}  # post-subsidy: final submission
        self.running: datetime | None = None  # the moment of the step being replayed
        # Reviews, results and publicity draw from their own generator, so the earlier story stays as it was.
        self.review_rng = random.Random(f"{DEMO_YEAR}-reviews")
        self.quality = demo_data.latent_quality(self.plans)
        experts = db.session.scalars(select(User).where(User.username.in_([e[0] for e in EXPERTS])))
        self.experts = {u.username: u for u in experts}
        self.runs: dict[str, ResultRun] = {}
        self.objections: list[Objection] = []
        self.objection_targets: list[tuple[Application, demo_data.Association]] = []
        self.criticised: str | None = None
        self.campaign = pilot.campaign
        # Targets, spot checks, payments and the notice: their own generator too.
        self.inspection_rng = random.Random(f"{DEMO_YEAR}-inspection")
        self.spot_checks: dict[str, SpotCheck] = {}
        self.finance = db.session.scalar(select(User).where(User.username == "finance"))

    # ---------------------------------------------------------------- timeline

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        """Plan ``action`` at ``moment``; a step being replayed may plan later ones (never earlier)."""
        if self.running is not None and moment < self.running:
            raise DemoError(f"演示步骤的时间 {moment} 早于当前步骤 {self.running}。")
        heapq.heappush(self.steps, (moment, self.sequence, action))
        self.sequence += 1

    def run(self) -> None:
        """Replay the steps in date order (ties in the order they were planned)."""
        while self.steps:
            moment, _n, action = heapq.heappop(self.steps)
            self.running = moment
            with clock_at(moment):
                action()
        self.running = None

    def moment(self, first: date, last: date, hours: tuple[int, int] = (9, 17)) -> datetime:
        """A random time in office hours on a random working day in [first, last]."""
        day = demo_data.workday(self.rng, first, last)
        return _at(day, self.rng.randint(*hours), self.rng.randint(0, 59), self.rng.randint(0, 59))

    # ---------------------------------------------------------------- steps (each runs at its moment)

    def _start(self, kind: str, code: str) -> None:
        unit = self.units[code]
        if kind == "pilot":
            self.apps[(kind, code)] = ops.nominate(self.pilot, unit, actor=self.office)
        else:
            self.apps[(kind, code)] = ops.start_application(self.post, unit, actor=self.clerk[code])
        # The office's tasks fill the new application's task figures through the creation hook.

    def _figures(self, kind: str, code: str, figures: dict[str, int | None]) -> None:
        raw = {k: None if v is None else str(v) for k, v in figures.items()}
        ops.save_figures(self.apps[(kind, code)], raw, actor=self.clerk[code])

    def _evidence(self, kind: str, code: str, criterion: str, title: str, day: date) -> None:
        unit = self.units[code]
        rubric = self.rubrics[kind]
        criterion_title = next(c.title for c in rubric.expert_criteria if c.key == criterion)
        data = demo_data.pdf_document(
            title,
            [
                unit.name,
                rubric.title,
                f"评分项目：{criterion_title}",
                f"材料名称：{title}",
                f"本文件为演示系统生成的示例材料，内容不代表{unit.name}的真实工作情况。",
                _cn(day),
            ],
            comment=f"{demo_data.ILLUSTRATIVE}：{unit.name}｜{criterion_title}｜{title}",
        )
        ops.add_evidence(
            self.apps[(kind, code)],
            criterion=criterion,
            title=title,
            stream=io.BytesIO(data),
            filename=f"{title}.pdf",
            actor=self.clerk[code],
        )

    def _roster(self, kind: str, code: str, rows: list[demo_data.Association], day: date) -> None:
        unit = self.units[code]
        data = demo_data.roster_workbook(unit.name, rows, filled_on=day)
        ops.import_roster(
            self.apps[(kind, code)],
            stream=io.BytesIO(data),
            filename=f"{unit.region}{DEMO_YEAR}年新建企业科协名册.xlsx",
            actor=self.clerk[code],
        )

    def _recommendation(self, kind: str, code: str) -> None:
        unit = self.units[code]
        application = self.apps[(kind, code)]
        values = application.figure_values()
        new, task = values.get("enterprise_kexie_new") or 0, values.get("task_new_kexie") or 0
        done = f"，完成目标任务的 {round(new * 100 / task)}%" if task else ""
        if kind == "pilot":
            funds = values.get("matching_funds") or 0
            text = (
                f"{unit.name}把企业科协组织建设列入重要议事日程，有发展规划和年度计划，有领导分管和专人负责。"
                f"{DEMO_YEAR}年上半年新建企业科协 {new} 个{done}，服务企业技术创新特色鲜明。"
                f"我会承诺自筹配套资金 {funds / 10000:g} 万元。同意推荐申报{DEMO_YEAR}年度企业科协组织建设试点示范单位。"
            )
        else:
            text = (
                f"{unit.name}高度重视企业科协组织建设工作，主要领导亲自部署，分管领导具体负责。"
                f"{DEMO_YEAR}年新建企业科协 {new} 个{done}；建立科协联系人制度企业 "
                f"{values.get('liaison_enterprises') or 0} 家。经审核，申报材料真实、完整，"
                f"同意推荐申报{DEMO_YEAR}年度企业科协组织建设后补助。"
            )
        ops.save_recommendation(application, text=text, actor=self.leader[code])

    def _letter(self, kind: str, code: str, day: date, *, scan: bool, corrected: bool = False) -> None:
        unit = self.units[code]
        label = "试点示范单位" if kind == "pilot" else "后补助"
        if scan:
            data = demo_data.letter_scan_png(int(code) + (1 if corrected else 0))
            filename = "盖章推荐函扫描件.png"
        else:
            data = demo_data.pdf_document(
                "推荐函" + ("（更正）" if corrected else ""),
                [
                    "中国科协计划财务部：",
                    "　　根据《中国科协2014年推进企业科协组织建设工作实施方案》（科协计函企字〔2014〕25号）要求，"
                    f"经研究，同意推荐{unit.name}申报{DEMO_YEAR}年度企业科协组织建设{label}。",
                    "　　特此推荐。",
                    f"{unit.name}（盖章）",
                    _cn(day),
                ],
                comment=f"{demo_data.ILLUSTRATIVE}：{unit.name}｜盖章推荐函｜{label}",
                seal="演示用章",
            )
            filename = "盖章推荐函（更正）.pdf" if corrected else "盖章推荐函.pdf"
        ops.add_recommendation_letter(
            self.apps[(kind, code)], stream=io.BytesIO(data), filename=filename, actor=self.leader[code]
        )

    def _submit(self, kind: str, code: str, *, may_fail: bool = False) -> None:
        try:
            ops.submit(self.apps[(kind, code)], actor=self.leader[code])
        except ops.ApplicationError:
            if not may_fail:
                raise  # the refusal is audited; the demo shows it on purpose only where may_fail

    def _withdraw(self, kind: str, code: str) -> None:
        ops.withdraw(self.apps[(kind, code)], actor=self.leader[code])

    def _check(self, code: str, decision: CheckDecision, note: str = "") -> None:
        ops.formal_check(self.apps[("post", code)], decision=decision, note=note, actor=self.office)

    def _payee(self, kind: str, code: str) -> None:
        unit = self.units[code]
        name, bank, account = demo_data.payee(code, unit.name, unit.region)
        ops.save_payee(
            self.apps[(kind, code)],
            payee_name=name,
            bank_name=bank,
            bank_account=account,
            actor=self.clerk[code],
        )

    # ---------------------------------------------------------------- planning

    def plan(self) -> None:
        self.plan_targets()
        self.plan_pilot()
        self.plan_post()
        self.plan_formal_check()
        self.plan_pilot_decisions()
        self.plan_payments()
        self.plan_spot_checks()
        self.plan_post_review()
        self.plan_post_decisions()
        self.at(_at(date(DEMO_YEAR, 12, 17), 10, 20), self._notice)

    def _files(self, kind: str, code: str, first: datetime, last: datetime, criteria=None) -> None:
        """Evidence for each criterion (a second file for some), at random moments between two times."""
        catalogue = PILOT_EVIDENCE if kind == "pilot" else POST_EVIDENCE
        rubric = self.rubrics[kind]
        keys = [c.key for c in rubric.expert_criteria]
        for key in keys if criteria is None else criteria:
            titles = catalogue.get(key, (f"{key}佐证材料",))
            chosen = titles[:1] + tuple(t for t in titles[1:] if self.rng.random() < 0.4)
            for title in chosen:
                when = self.moment(first.date() + timedelta(days=1), last.date() - timedelta(days=1))
                day = when.date()
                self.at(when, lambda c=code, k=key, t=title, d=day: self._evidence(kind, c, k, t, d))

    def plan_pilot(self) -> None:
        nominated = _at(date(DEMO_YEAR, 6, 16), 10, 5)
        for n, code in enumerate(PILOT):
            self.at(nominated + timedelta(minutes=3 * n), lambda c=code: self._start("pilot", c))
            plan = self.plans[code]
            figures_at = self.moment(date(DEMO_YEAR, 7, 1), date(DEMO_YEAR, 7, 4))
            submit_at = self.moment(date(DEMO_YEAR, 7, 21), date(DEMO_YEAR, 7, 31))
            self.at(figures_at, lambda c=code, f=plan.pilot_figures: self._figures("pilot", c, f))
            self.at(figures_at + timedelta(minutes=18), lambda c=code: self._payee("pilot", c))
            self._files("pilot", code, figures_at, submit_at)
            roster_at = self.moment(date(DEMO_YEAR, 7, 7), date(DEMO_YEAR, 7, 15))
            rows = plan.founded_by(date(DEMO_YEAR, 6, 30))
            day = roster_at.date()
            self.at(roster_at, lambda c=code, r=rows, d=day: self._roster("pilot", c, r, d))
            self.step_leader("pilot", code, submit_at, scan=False)
        self.at(_at(date(DEMO_YEAR, 8, 1), 8, 45), lambda: apply_due_transitions(self.pilot))
        for n, code in enumerate(PILOT):
            self.at(
                _at(date(DEMO_YEAR, 8, 4), 9, 30) + timedelta(minutes=25 * n),
                lambda c=code: ops.formal_check(
                    self.apps[("pilot", c)],
                    decision=CheckDecision.passed,
                    note="材料齐全。",
                    actor=self.office,
                ),
            )

    def step_leader(self, kind: str, code: str, submit_at: datetime, *, scan: bool) -> None:
        self.at(submit_at - timedelta(minutes=35), lambda: self._recommendation(kind, code))
        self.at(
            submit_at - timedelta(minutes=12),
            lambda: self._letter(kind, code, submit_at.date(), scan=scan),
        )
        self.at(submit_at, lambda: self._submit(kind, code))

    def plan_post(self) -> None:
        for code in sorted(self.units):
            if code in NEVER_STARTED:
                continue
            plan = self.plans[code]
            state = DRAFTS.get(code, "submitted")
            figures_at = self.moment(date(DEMO_YEAR, 9, 1), date(DEMO_YEAR, 10, 14), hours=(9, 11))
            if code in WITHDRAWN:
                first_submit = {
                    "130000": _at(date(DEMO_YEAR, 10, 21), 10, 17, 32),
                    "430000": _at(date(DEMO_YEAR, 10, 27), 11, 4, 9),
                    "330200": _at(date(DEMO_YEAR, 10, 30), 16, 22, 45),
                }[code]
            else:
                first_submit = self.moment(date(DEMO_YEAR, 10, 20), date(DEMO_YEAR, 10, 31))
                if self.rng.random() < 0.15:  # some leaders submit in the evening
                    first_submit = first_submit.replace(hour=first_submit.hour + 3)
            self.at(figures_at - timedelta(minutes=4), lambda c=code: self._start("post", c))
            figures = dict(plan.figures)
            if state == "partial_figures":
                for key in ("national_parks_total", "national_parks_with_kexie", "haizhi_bases"):
                    figures[key] = None
            self.at(figures_at, lambda c=code, f=figures: self._figures("post", c, f))
            if state == "submitted":  # every unit that submits enters its payee details
                self.at(figures_at + timedelta(minutes=23), lambda c=code: self._payee("post", c))
            if state == "figures_only":
                continue
            criteria = None
            if state == "some_evidence":
                criteria = [c.key for c in self.rubrics["post"].expert_criteria][:3]
            elif state == "partial_figures":
                criteria = [c.key for c in self.rubrics["post"].expert_criteria][:2]
            self._files("post", code, figures_at, first_submit, criteria)
            if state in ("some_evidence", "partial_figures"):
                continue
            rows = list(plan.associations)
            if code == ROSTER_SHORT:
                rows = rows[:-2]
            elif code == ROSTER_DUPLICATE:
                rows = rows + [rows[3]]
            roster_at = self.moment(
                max(figures_at.date() + timedelta(days=1), date(DEMO_YEAR, 9, 2)),
                first_submit.date() - timedelta(days=1),
            )
            day = roster_at.date()
            self.at(roster_at, lambda c=code, r=rows, d=day: self._roster("post", c, r, d))
            if state == "no_recommendation":
                self.at(
                    _at(date(DEMO_YEAR, 10, 30), 16, 8), lambda c=code: self._submit("post", c, may_fail=True)
                )
                continue
            if state == "no_letter":
                self.at(_at(date(DEMO_YEAR, 10, 31), 23, 20), lambda c=code: self._recommendation("post", c))
                self.at(
                    _at(date(DEMO_YEAR, 10, 31), 23, 52, 18),
                    lambda c=code: self._submit("post", c, may_fail=True),
                )
                continue
            self.step_leader("post", code, first_submit, scan=self.rng.random() < 0.25)
            self.submitted_at[code] = first_submit
            if code in WITHDRAWN:
                self.plan_withdrawal(code, first_submit)

    def plan_withdrawal(self, code: str, first_submit: datetime) -> None:
        what = WITHDRAWN[code]
        day = first_submit.date()
        if what == "figures":  # the liaison count was corrected after the receipt was printed
            withdraw_at, fix_at, again = (
                _at(day + timedelta(days=2), 9, 10),
                _at(day + timedelta(days=2), 10, 5),
                _at(day + timedelta(days=3), 15, 20, 11),
            )
            figures = dict(self.plans[code].figures)
            figures["liaison_enterprises"] += 12
            self.at(fix_at, lambda: self._figures("post", code, figures))
        elif what == "evidence":  # a missing report was added
            withdraw_at, fix_at, again = (
                _at(day + timedelta(days=1), 9, 30),
                _at(day + timedelta(days=1), 14, 2),
                _at(day + timedelta(days=2), 10, 15, 40),
            )
            self.at(
                fix_at,
                lambda: self._evidence(
                    "post", code, "services", "补充：学会服务站工作简报（第3期）", fix_at.date()
                ),
            )
        else:  # the letter carried a wrong date: a corrected one replaces it, minutes before the deadline
            withdraw_at, fix_at, again = (
                _at(day + timedelta(days=1), 10, 5),
                _at(day + timedelta(days=1), 22, 58),
                _at(day + timedelta(days=1), 23, 41, 7),
            )
            self.at(fix_at, lambda: self._letter("post", code, fix_at.date(), scan=False, corrected=True))
        self.at(withdraw_at, lambda: self._withdraw("post", code))
        self.at(again, lambda: self._submit("post", code))
        self.submitted_at[code] = again

    def plan_formal_check(self) -> None:
        self.at(_at(date(DEMO_YEAR, 11, 3), 8, 32), lambda: apply_due_transitions(self.post))
        special = {RETURNED_RESUBMITTED, RETURNED_OPEN, REJECTED}
        ordinary = sorted(
            (c for c in self.submitted_at if c not in special), key=lambda c: self.submitted_at[c]
        )
        to_pass = ordinary[: len(ordinary) - UNDECIDED]
        days = [date(DEMO_YEAR, 11, d) for d in (3, 4, 5, 6)]
        per_day = -(-len(to_pass) // len(days))
        for n, code in enumerate(to_pass):
            when = _at(days[n // per_day], 9, 10) + timedelta(
                minutes=40 * (n % per_day) + self.rng.randint(0, 25)
            )
            self.at(when, lambda c=code: self._check(c, CheckDecision.passed, "材料齐全。"))
        self.at(
            _at(date(DEMO_YEAR, 11, 4), 10, 48),
            lambda: self._check(
                REJECTED,
                CheckDecision.rejected,
                "推荐函未经单位负责人签字、未加盖公章，且所附佐证材料均为2013年度材料，"
                "不符合《实施方案》关于报送本年度工作材料的要求，形式审查不予通过。",
            ),
        )
        returned = _at(date(DEMO_YEAR, 11, 4), 15, 6)
        self.at(
            returned,
            lambda: self._check(
                RETURNED_RESUBMITTED,
                CheckDecision.returned,
                "“工作及时性与实效”的佐证材料只有封面，缺少2014年企业科协组织建设工作总结正文，请在补正期限内补充上传后重新提交。",
            ),
        )
        fix = _at(date(DEMO_YEAR, 11, 6), 10, 12)
        self.at(
            fix,
            lambda: self._evidence(
                "post",
                RETURNED_RESUBMITTED,
                "timeliness",
                "2014年企业科协组织建设工作总结（正文）",
                fix.date(),
            ),
        )
        self.at(_at(date(DEMO_YEAR, 11, 6), 10, 40, 26), lambda: self._submit("post", RETURNED_RESUBMITTED))
        self.at(
            _at(date(DEMO_YEAR, 11, 5), 15, 20),
            lambda: self._check(
                RETURNED_OPEN,
                CheckDecision.returned,
                "“组织质量与活力”的佐证材料缺少新建企业科协“一强五有”达标情况汇总表，请在补正期限内补充上传后重新提交。",
            ),
        )

    # ---------------------------------------------------------------- targets, payments, spot checks, notice

    def plan_targets(self) -> None:
        """June: the office sets the national targets and allocates them by regulated enterprises, before the
        pilot nominations (the applications get their tasks when created); August: one adjustment."""
        self.at(_at(date(DEMO_YEAR, 6, 12), 9, 40), self._national)
        self.at(_at(date(DEMO_YEAR, 6, 12), 10, 15), self._allocate)
        self.at(_at(date(DEMO_YEAR, 8, 12), 10, 30), self._adjust)

    def _national(self) -> None:
        new, liaison = demo_data.NATIONAL_TARGETS
        parks, national_parks, baseline = NATIONAL_COVERAGE
        set_national_target(
            self.campaign,
            new_kexie=new,
            liaison=liaison,
            park_coverage=parks,
            national_park_coverage=national_parks,
            baseline_coverage=baseline,
            actor=self.office,
        )

    def _allocate(self) -> None:
        basis = {code: self.plans[code].basis for code in sorted(self.units)}
        targets = allocate_targets(self.campaign, basis=basis, actor=self.office)
        got = {t.unit.code: (t.task_new_kexie, t.task_liaison) for t in targets}
        if got != {code: plan.allocated for code, plan in self.plans.items()}:
            raise DemoError("演示：任务分配结果与演示数据的任务数不一致。")

    def _adjust(self) -> None:
        for code in sorted(demo_data.ADJUSTED):
            target = unit_targets(self.campaign)[self.units[code].id]
            new, liaison = (self.plans[code].targets[k] for k in demo_data.TASK_KEYS)
            adjust_target(
                target, task_new=new, task_liaison=liaison, reason=ADJUSTMENT_REASON, actor=self.office
            )

    def plan_payments(self) -> None:
        """Finance pays the pilot awards in the last week before the 30 September deadline, all but one."""
        self.at(_at(date(DEMO_YEAR, 9, 22), 9, 20), self._plan_payments)

    def _plan_payments(self) -> None:
        lines = award_lines(self.pilot)
        if not lines:
            return
        paid = lines[:-1]  # the last stays unpaid: overdue on finance's home page
        days = self._workdays(date(DEMO_YEAR, 9, 22), date(DEMO_YEAR, 9, 26))
        for n, line in enumerate(paid):
            when = _at(days[n // 2], 10 if n % 2 == 0 else 15, 5 + 7 * n, 12)
            voucher = f"2014年9月记字第{118 + 9 * n}号"
            self.at(
                when,
                lambda d=line.decision, w=when, v=voucher: record_payment(
                    d, paid_on=w.date(), voucher_no=v, actor=self.finance
                ),
            )

    def plan_spot_checks(self) -> None:
        """After the formal check: the office draws the samples (seeds recorded) and assigns inspectors, who
        record their findings over the next two weeks, before the results are run on 1 December."""
        start = _at(date(DEMO_YEAR, 11, 10), 9, 35)
        days = self._workdays(date(DEMO_YEAR, 11, 12), date(DEMO_YEAR, 11, 26))
        for n, spec in enumerate(SPOT_CHECKS):
            self.at(start + timedelta(minutes=9 * n), lambda s=spec, d=days[n:]: self._spot_check(s, d))

    def _spot_check(self, spec: tuple, days: list[date]) -> None:
        code, inspector, size, seed, finding = spec
        application = self.apps[("post", code)]
        user = self.office if inspector == "office" else self.experts[inspector]
        check = create_spot_check(application, seed=seed, size=size, inspector=user, actor=self.office)
        self.spot_checks[code] = check
        rng = self.inspection_rng
        entries = list(check.entries)
        statuses = [CheckStatus.verified] * len(entries)
        if finding == "hollow":  # half of the sample: dormant or not found (a verified rate of 50 %)
            bad = rng.sample(range(len(entries)), len(entries) - len(entries) // 2)
            for k, i in enumerate(bad):
                statuses[i] = CheckStatus.not_found if k < len(bad) // 3 + 1 else CheckStatus.dormant
        elif finding == "one_dormant":
            statuses[rng.randrange(len(entries))] = CheckStatus.dormant
        recorded = len(entries) // 3 if finding == "incomplete" else len(entries)
        day = 0
        moment = _at(days[day], rng.choice((9, 10, 14)), rng.randint(0, 30))
        for entry, status in list(zip(entries, statuses, strict=True))[:recorded]:
            moment += timedelta(minutes=rng.randint(9, 24), seconds=rng.randint(0, 59))
            if moment.hour >= 17 or moment.date() != days[day]:  # the next working day
                day += 1
                moment = _at(days[day], 9, rng.randint(5, 40))
            self.at(moment, lambda e=entry, s=status, u=user: self._record(e, s, u))

    def _record(self, entry: SpotCheckEntry, status: CheckStatus, inspector: User) -> None:
        row = entry.roster_entry
        region = entry.spot_check.application.unit.region
        rng = self.inspection_rng
        if status == CheckStatus.verified:
            note = rng.choice(
                (
                    f"电话联系{row.enterprise}，核对了批准文件{row.approval_no}和会员名册，{DEMO_YEAR}年已开展活动。",
                    f"实地走访，科协组织健全，主席{row.chair}介绍了年内技术交流和合理化建议活动，有记录可查。",
                    "",
                )
            )
        elif status == CheckStatus.dormant:
            note = (
                f"实地走访{row.enterprise}：科协挂牌后未召开会员（代表）大会，没有工作制度、活动记录和经费安排，"
                f"企业方面称“成立后还没有开展工作”，属名存实亡。"
            )
        else:
            note = f"{row.enterprise}表示未成立科协；名册所列批准文号{row.approval_no}在{region}科协发文登记中查无此文。"
        record_check(entry, status=status, note=note, upload=None, actor=inspector)

    def _notice(self) -> None:
        """The office prepares the commendation notice: the default text with the 发文字号 and the date."""
        problem = validate_doc_number(NOTICE_DOC_NUMBER)
        if problem:
            raise DemoError(problem)
        kind = NoticeKind.commendation
        default = default_draft(self.campaign, kind)
        draft = get_draft(self.campaign, kind)
        if draft is None:
            draft = NoticeDraft(campaign_id=self.campaign.id, kind=kind, updated_at=now())
            db.session.add(draft)
        draft.doc_number, draft.title, draft.body = NOTICE_DOC_NUMBER, default["title"], default["body"]
        draft.addressees = "各省、自治区、直辖市、副省级城市科协，新疆生产建设兵团科协："
        draft.signature, draft.issued_on = "中国科协", NOTICE_DATE
        draft.updated_by_id, draft.updated_at = self.office.id, now()
        db.session.flush()
        log_event(
            "notice.save",
            obj=self.campaign,
            actor=self.office,
            detail={"kind": kind.value, "doc_number": draft.doc_number},
        )

    # ---------------------------------------------------------------- expert review (both programs)

    def program(self, kind: str):
        return self.pilot if kind == "pilot" else self.post

    def _assign(self, kind: str, first: date, last: date, finish: dict[str, date] | None = None) -> None:
        """Full panel, then plan each expert's sessions on the assignments it really created."""
        program = self.program(kind)
        assign_full_panel(program, actor=self.office)
        by_expert: dict[str, list[Assignment]] = {}
        for assignment in program_assignments(program):
            if AssignmentStatus(assignment.status) in ACTIVE:
                by_expert.setdefault(assignment.expert.username, []).append(assignment)
        for username in sorted(by_expert):
            mine = sorted(by_expert[username], key=lambda a: a.application.unit.sort_key)
            self.plan_expert(kind, username, mine, first, (finish or {}).get(username, last))

    def _workdays(self, first: date, last: date) -> list[date]:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [d for d in days if is_workday(d).workday]

    def _scores(self, kind: str, code: str, username: str) -> tuple[dict[str, str], str]:
        rng = self.review_rng
        rubric = self.rubrics[kind]
        plan = self.plans[code]
        figures = {**plan.pilot_figures, **plan.targets} if kind == "pilot" else plan.scored
        quality = self.quality[code]
        if kind == "pilot":  # the office nominated units it already knew to be good
            quality = 0.45 + 0.55 * quality
        leniency, spread = EXPERT_STYLE[username]
        bonus = {}
        if kind == "pilot":  # the commitment is judged on the amount pledged (100,000–300,000)
            bonus["matching_commitment"] = (
                figures["matching_funds"] - 200_000
            ) / 200_000 * 0.5 - 0.44 * quality
        criteria = [(c.key, c.max, c.step) for c in rubric.expert_criteria]
        scores = demo_data.review_scores(
            rng, criteria, quality, leniency=leniency, spread=spread, bonus=bonus
        )
        opinion = demo_data.review_opinion(rng, kind, self.units[code].name, figures, quality)
        return scores, opinion

    def plan_expert(
        self, kind: str, username: str, assignments: list[Assignment], first: date, last: date
    ) -> None:
        """An expert's review sessions: a few evenings or mornings, 15–35 minutes per application, some
        drafts saved before submitting; the demo's declared conflict and reopened review are planned here."""
        rng = self.review_rng
        expert = self.experts[username]
        per_session = rng.randint(2, 3) if kind == "pilot" else rng.randint(5, 9)
        days = self._workdays(first, last)
        sessions = min(len(days), math.ceil(len(assignments) / per_session))
        chosen = sorted(rng.sample(days[:-1], sessions - 1)) + [days[-1]] if sessions > 1 else [days[-1]]
        queue = list(assignments)
        for n, day in enumerate(chosen):
            hour = rng.choice((9, 10, 14, 15, 19, 20))
            moment = _at(day, hour, rng.randint(0, 45), rng.randint(0, 59))
            count = math.ceil(len(queue) / (len(chosen) - n))
            if hour >= 19 and count > 5:  # a long session starts in the afternoon, not late at night
                moment -= timedelta(hours=5)
            for assignment in queue[:count]:
                code = assignment.application.unit.code
                if kind == "post" and (username, code) == DECLARES:
                    self.at(moment, lambda a=assignment, e=expert: self._declare(a, e))
                    moment += timedelta(minutes=rng.randint(3, 8))
                    continue
                scores, opinion = self._scores(kind, code, username)
                if rng.random() < 0.15:  # a draft first: the first criteria, no opinion yet
                    partial = dict(list(scores.items())[:2])
                    self.at(
                        moment, lambda a=assignment, e=expert, p=partial: self._review(a, e, p, "", False)
                    )
                    moment += timedelta(minutes=rng.randint(6, 15))
                if kind == "post" and (username, code) == REOPENED:
                    slip = dict(scores, timeliness="0")  # a slip of the keyboard: caught by the office
                    self.at(
                        moment,
                        lambda a=assignment, e=expert, s=slip, o=opinion: self._review(a, e, s, o, True),
                    )
                    reopen = _at(date(DEMO_YEAR, 11, 24), 15, 12)
                    if moment >= reopen:
                        raise DemoError("演示：被退回的评分应在退回之前提交。")
                    self.at(reopen, lambda a=assignment: self._reopen(a))
                    again = _at(date(DEMO_YEAR, 11, 25), 20, 16, 40)
                    self.at(
                        again,
                        lambda a=assignment, e=expert, s=scores, o=opinion: self._review(a, e, s, o, True),
                    )
                else:
                    self.at(
                        moment,
                        lambda a=assignment, e=expert, s=scores, o=opinion: self._review(a, e, s, o, True),
                    )
                moment += timedelta(minutes=rng.randint(15, 35), seconds=rng.randint(0, 59))
            queue = queue[count:]

    def _review(self, assignment: Assignment, expert: User, scores: dict, opinion: str, submit: bool) -> None:
        save_review(assignment, raw_scores=scores, opinion=opinion, submit=submit, actor=expert)

    def _declare(self, assignment: Assignment, expert: User) -> None:
        declare_conflict(assignment, reason=DECLARE_REASON, actor=expert)

    def _reopen(self, assignment: Assignment) -> None:
        criterion = next(c for c in self.rubrics["post"].expert_criteria if c.key == "timeliness")
        reopen_review(
            assignment,
            reason=f"“{criterion.title}”评分为 0 分，与评审意见和其余各项评分明显不符，疑为录入错误，"
            "请核对后重新提交。",
            actor=self.office,
        )

    def _run(self, kind: str, *, bootstrap: int, seed: int) -> None:
        self.runs[kind] = run_results(self.program(kind), bootstrap=bootstrap, seed=seed, actor=self.office)

    def _adopt(self, kind: str) -> None:
        adopt_proposals(self.program(kind), self.runs[kind], actor=self.office)

    def _open(self, kind: str, start: date) -> None:
        open_round(self.program(kind), start=start, contact=PUBLICITY_CONTACT, actor=self.office)

    def plan_pilot_decisions(self) -> None:
        """Pilot: reviewed in August, decided and published so the money can go out before the end of
        September (实施方案 三（三）1), final on 9 September."""
        pilot, office = self.pilot, self.office
        self.at(
            _at(date(DEMO_YEAR, 8, 5), 9, 40),
            lambda: advance_phase(
                pilot, Phase.review, reason="形式审查完毕，全部通过，进入专家评审", actor=office
            ),
        )
        self.at(
            _at(date(DEMO_YEAR, 8, 5), 10, 5),
            lambda: self._assign("pilot", date(DEMO_YEAR, 8, 6), date(DEMO_YEAR, 8, 15)),
        )
        self.at(
            _at(date(DEMO_YEAR, 8, 18), 9, 30),
            lambda: advance_phase(pilot, Phase.panel, reason="专家评审全部提交，进入结果会商", actor=office),
        )
        self.at(_at(date(DEMO_YEAR, 8, 18), 10, 12), lambda: self._run("pilot", bootstrap=500, seed=20140818))
        self.at(_at(date(DEMO_YEAR, 8, 19), 15, 3), lambda: self._adopt("pilot"))
        self.at(_at(date(DEMO_YEAR, 8, 27), 10, 0), lambda: self._open("pilot", date(DEMO_YEAR, 9, 1)))
        self.at(_at(date(DEMO_YEAR, 9, 9), 9, 35), lambda: finalise(pilot, actor=office))

    def plan_post_review(self) -> None:
        """Post-subsidy: the office finishes the formal check, the panel scores in the second half of
        November (one declared conflict, one review reopened), results on 1 December."""
        special = {RETURNED_RESUBMITTED, RETURNED_OPEN, REJECTED}
        ordinary = sorted(
            (c for c in self.submitted_at if c not in special), key=lambda c: self.submitted_at[c]
        )
        pending = ordinary[len(ordinary) - UNDECIDED :] + [RETURNED_RESUBMITTED]
        start = _at(date(DEMO_YEAR, 11, 7), 9, 12)
        for n, code in enumerate(pending):
            note = "补正材料已补齐，材料齐全。" if code == RETURNED_RESUBMITTED else "材料齐全。"
            when = start + timedelta(minutes=38 * n + self.review_rng.randint(0, 20))
            self.at(when, lambda c=code, t=note: self._check(c, CheckDecision.passed, t))
        post, office = self.post, self.office
        self.at(
            _at(date(DEMO_YEAR, 11, 11), 9, 5),
            lambda: ops.reject_expired_correction(self.apps[("post", RETURNED_OPEN)], actor=office),
        )
        self.at(
            _at(date(DEMO_YEAR, 11, 11), 9, 40),
            lambda: advance_phase(post, Phase.review, reason="形式审查完毕，进入专家评审", actor=office),
        )
        self.at(
            _at(date(DEMO_YEAR, 11, 11), 10, 20),
            lambda: self._assign("post", date(DEMO_YEAR, 11, 12), date(DEMO_YEAR, 11, 21), POST_LATE),
        )
        self.at(_at(date(DEMO_YEAR, 11, 24), 9, 0), lambda: remind(post, expert_ids=None, actor=office))

    def plan_post_decisions(self) -> None:
        post, office = self.post, self.office
        self.at(
            _at(date(DEMO_YEAR, 12, 1), 9, 30),
            lambda: advance_phase(post, Phase.panel, reason="专家评审全部提交，进入结果会商", actor=office),
        )
        self.at(_at(date(DEMO_YEAR, 12, 1), 10, 8), lambda: self._run("post", bootstrap=1000, seed=20141201))
        self.at(_at(date(DEMO_YEAR, 12, 2), 14, 40), lambda: self._adopt("post"))
        self.at(_at(date(DEMO_YEAR, 12, 3), 10, 25), self._criticise)
        self.at(_at(date(DEMO_YEAR, 12, 5), 10, 0), lambda: self._open("post", date(DEMO_YEAR, 12, 8)))
        self.at(_at(date(DEMO_YEAR, 12, 9), 10, 32, 15), lambda: self._object(0))
        self.at(_at(date(DEMO_YEAR, 12, 10), 9, 48), lambda: self._investigate(0))
        self.at(_at(date(DEMO_YEAR, 12, 11), 15, 47, 3), lambda: self._object(1))
        self.at(_at(date(DEMO_YEAR, 12, 12), 11, 20), lambda: self._investigate(1))
        self.at(_at(date(DEMO_YEAR, 12, 16), 10, 5), self._conclude_first)

    def _criticise(self) -> None:
        """The office's one change to the proposals: of the unfunded units the system flags as candidates for
        criticism (low verified rate or task completion), the one with the weakest completion is criticised."""
        decisions = current_decisions(self.post)
        flagged = {c.application.id for c in criticism_candidates(self.campaign)}
        candidates = [
            a
            for a in ranked_applications(self.post)
            if DecisionKind(decisions[a.id].kind) == DecisionKind.none
        ]

        def completion(application: Application) -> float:
            values = application.figure_values()
            values["enterprise_kexie_new"] = effective_new(application).effective
            return demo_data.task_completion({k: None if v is None else float(v) for k, v in values.items()})

        application = min(candidates, key=lambda a: (a.id not in flagged, completion(a), a.unit.code))
        code = application.unit.code
        f = {k: int(v) for k, v in application.figure_values().items() if v is not None}
        effective = effective_new(application)
        row = next(r for r in self.runs["post"].result_data()["applications"] if r["application"] == code)
        liaison = round(f["liaison_enterprises"] * 100 / f["task_liaison"])
        if effective.verified_rate is not None and effective.effective != effective.claimed:
            check = self.spot_checks[code]
            verified = sum(1 for e in check.entries if CheckStatus(e.status) == CheckStatus.verified)
            new_text = (
                f"{application.unit.name}填报{DEMO_YEAR}年新建企业科协 {f['enterprise_kexie_new']} 个；名册抽查 "
                f"{check.sample_size} 个，属实 {verified} 个（核实率 {effective.verified_rate:.0%}），其余名存实亡或查无此会，"
                f"按核实后的 {effective.effective} 个计，仅完成目标任务（{f['task_new_kexie']} 个）的 "
                f"{round(effective.effective * 100 / f['task_new_kexie'])}%"
            )
        else:
            new_text = (
                f"{application.unit.name}{DEMO_YEAR}年新建企业科协 {f['enterprise_kexie_new']} 个，仅完成目标任务"
                f"（{f['task_new_kexie']} 个）的 {round(f['enterprise_kexie_new'] * 100 / f['task_new_kexie'])}%"
            )
        self.criticised = code
        change_decision(
            application,
            kind=DecisionKind.criticism,
            amount=None,
            reason=(
                new_text
                + f"；建立科协联系人制度企业 {f['liaison_enterprises']} 家，完成目标任务的 {liaison}%；"
                f"综合得分 {row['total']} 分"
                + ("，低于 60 分的考核合格线" if Decimal(str(row["total"])) < 60 else "")
                + f"，排名第 {row['rank']}。"
                "目标任务完成情况明显不足，经处务会研究，按《实施方案》四（三）检查考核的要求予以通报批评。"
            ),
            actor=self.office,
        )

    def _funded(self) -> list[Application]:
        """Funded post-subsidy applications, those with the longest rosters first (objections are about them)."""
        decisions = current_decisions(self.post)
        funded = [a for a in ranked_applications(self.post) if DecisionKind(decisions[a.id].kind).funded]
        return sorted(
            funded, key=lambda a: (-self.plans[a.unit.code].figures["enterprise_kexie_new"], a.unit.code)
        )

    def _object(self, n: int) -> None:
        """A member of the public objects, by real name, on the public page (no login)."""
        application = self._funded()[n]
        unit = application.unit
        associations = self.plans[unit.code].associations
        name, organisation, phone, ip = OBJECTORS[n]
        organisation = organisation.format(place=demo_data.PLACES[unit.code][0])
        if n == 0:
            association = associations[0]
            content = (
                f"公示名单中{unit.name}拟获后补助。据我了解，其新建企业科协名册所列“{association.name}”在2013年就已挂牌，"
                f"不应计入{DEMO_YEAR}年新建企业科协数，请予核实。"
            )
        else:
            association = associations[len(associations) // 3]
            content = (
                f"{unit.name}名册中的“{association.name}”，所在的{association.enterprise}今年下半年已基本停产，"
                "这个科协成立后没有开展过活动，不符合“一强五有”的要求，建议核查后再确定资助。"
            )
        objection = lodge_objection(
            self.post,
            name=name,
            organisation=organisation,
            phone=phone,
            content=content,
            application_id=application.id,
            upload=None,
            ip=ip,
        )
        self.objections.append(objection)
        self.objection_targets.append((application, association))

    def _investigate(self, n: int) -> None:
        application, association = self.objection_targets[n]
        unit = application.unit
        if n == 0:
            investigation = (
                f"已调取{unit.name}提交的新建企业科协名册和“{association.name}”的批准文件，"
                f"并致电{unit.region}科协企业工作部门了解该企业科协的成立情况。"
            )
        else:
            investigation = (
                f"已函请{unit.region}科协核实{association.enterprise}的生产经营情况和该企业科协的活动开展情况，"
                f"要求于{DEMO_YEAR}年12月19日前书面报告；收到复函后作出结论。"
            )
        record_entry(
            self.objections[n],
            investigation=investigation,
            conclusion=Conclusion.pending,
            reply="",
            concluded_on=None,
            replied_on=None,
            actor=self.office,
        )

    def _conclude_first(self) -> None:
        application, association = self.objection_targets[0]
        unit = application.unit
        objection = self.objections[0]
        founded = _cn(association.founded_on)
        record_entry(
            objection,
            investigation=(
                f"经核对名册和批准文件，“{association.name}”由{unit.region}科协于{founded}以{association.approval_no}"
                f"批准成立；2013年挂牌的是{association.enterprise}内部的技术创新协会，未经科协批准，不属于企业科协。"
                f"名册所列其余企业科协的批准时间也均在{DEMO_YEAR}年内。"
            ),
            conclusion=Conclusion.not_upheld,
            reply=(
                f"{objection.name.removesuffix('（演示）')}同志：您反映的“{association.name}”系{founded}经批准新建，"
                f"计入{DEMO_YEAR}年新建企业科协数符合《实施方案》的统计口径，异议不成立。"
                "感谢您对企业科协组织建设工作的关心和监督。"
            ),
            concluded_on=date(DEMO_YEAR, 12, 15),
            replied_on=date(DEMO_YEAR, 12, 16),
            actor=self.office,
        )

    # ---------------------------------------------------------------- summary

    def summary(self) -> list[str]:
        region = {code: unit.region for code, unit in self.units.items()}
        lines = [f"演示情景（{demo_data.ILLUSTRATIVE}：各单位的数字、名册和文件都是生成的示例）："]
        for program in (self.pilot, self.post):
            applications = db.session.scalars(select(Application).where(Application.program_id == program.id))
            counts = Counter(ApplicationStatus(a.status) for a in applications)
            parts = [f"{s.label} {counts[s]}" for s in ApplicationStatus if counts[s]]
            total = sum(counts.values())
            extra = (
                f"；邀请申报 {total} 个单位"
                if ProgramKind(program.kind) == ProgramKind.pilot
                else f"；未申报 {len(self.units) - total} 个单位"
            )
            lines.append(
                f"  {ProgramKind(program.kind).label}（{DEMO_YEAR} 年 "
                f"{format_beijing(program.submission_deadline, '%m-%d')} 截止，"
                f"当前阶段：{program.phase_label}）：" + "、".join(parts) + extra + "。"
            )
        lines += self.results_summary()
        lines += self.inspection_summary()
        pilot_decisions = current_decisions(self.pilot)
        chosen = [
            a for a in ranked_applications(self.pilot) if pilot_decisions[a.id].kind == DecisionKind.pilot
        ]
        shown = (
            next((a for a in chosen if a.unit.code == PILOT[0]), chosen[0]).unit.code if chosen else PILOT[0]
        )
        declared_on, reopened_on = region[DECLARES[1]], region[REOPENED[1]]
        criticised = f"，{region[self.criticised]}改为通报批评（写明理由）" if self.criticised else ""
        lines += [
            "值得一看的账户：",
            f"  u{shown}l    {region[shown]}：试点示范已定案，登录后在申报页面查看本单位的结果和得分构成",
            f"  u{RETURNED_OPEN}l    {region[RETURNED_OPEN]}：退回补正，补正期限已过未重新提交，不予通过",
            f"  u{RETURNED_RESUBMITTED}l    {region[RETURNED_RESUBMITTED]}：退回补正后补充材料并重新提交，复查通过",
            f"  u{REJECTED}l    {region[REJECTED]}：形式审查不通过（附理由）",
            f"  u130000l    {region['130000']}：截止前撤回后重新提交（第一张回执标为已撤回）",
            f"  u{ROSTER_SHORT}c    {region[ROSTER_SHORT]}：名册行数与填报的本年度新建企业科协数不一致",
            f"  u520000c    {region['520000']}：草稿，负责人尚未写推荐意见、上传推荐函",
            f"  u150000c    {region['150000']}：草稿，只填了数据",
            f"  u460000c    {region['460000']}：未申报",
            f"  {DECLARES[0]}    评审专家：已提交的评分只读；对{declared_on}的申报申明了回避",
            f"  {REOPENED[0]}    评审专家：对{reopened_on}的评分被业务处室退回（附理由）后重新提交",
            *self.inspection_accounts(),
            "  office      业务处室：任务分配与全国进度看板、名册抽查、评审进度、评审结果与资助决定"
            + criticised
            + "；"
            "后补助公示期已满，第二件异议办结后即可定案",
            "  公众        公示页面（无需登录）：http://127.0.0.1:5000/publicity",
        ]
        return lines

    def inspection_summary(self) -> list[str]:
        """Targets, spot checks and payments, one line each."""
        national = national_target(self.campaign)
        targets = sorted(unit_targets(self.campaign).values(), key=lambda t: t.unit.sort_key)
        adjusted = [t for t in targets if t.reason]
        lines = [
            "任务分配、名册抽查与拨付：",
            f"  任务分配：全国目标新建企业科协 {national.new_kexie} 个、建立科协联系人制度企业 {national.liaison} 家"
            f"（园区科协覆盖率 {national.park_coverage:.0%}、国家级园区 {national.national_park_coverage:.0%}，"
            f"企业科协覆盖率起点 {national.baseline_coverage:.1%}），按规模以上工业企业数（省不含副省级城市）"
            f"分配到 {len(targets)} 个单位，合计恰为全国目标；"
            + "、".join(f"{t.unit.region}因灾调减（写明理由）" for t in adjusted)
            + f"，调整后合计 {sum(t.task_new_kexie for t in targets)} 个、{sum(t.task_liaison for t in targets)} 家。"
            f"全国进度看板：http://127.0.0.1:5000/campaigns/{self.campaign.id}/dashboard",
        ]
        checks = list(self.spot_checks.values())
        complete = [c for c in checks if c.complete]
        low = [c for c in complete if c.verified_rate < Decimal("0.6")]
        lines.append(
            f"  名册抽查：后补助 {len(checks)} 个单位（抽样随机种子已记录），{len(complete)} 个核查完毕、"
            f"{len(checks) - len(complete)} 个核查中；"
            + "".join(
                f"{c.application.unit.region}核实率 {c.verified_rate:.0%}，列入通报批评候选；" for c in low
            )
            + "评分中的本年度新建企业科协数按核实后的数字计算。"
        )
        lines_ = award_lines(self.pilot)
        paid = [line for line in lines_ if line.payment is not None]
        overdue = [line for line in lines_ if line.overdue]
        lines.append(
            f"  拨付：试点示范资助 {len(lines_)} 项，已登记拨付 {len(paid)} 项"
            + "".join(
                f"，{line.decision.application.unit.region} {float(line.decision.amount) / 10000:g} 万元"
                f"逾期未拨付（期限 {line.due:%Y-%m-%d}）"
                for line in overdue
            )
            + f"；后补助资助定案后于 {due_date(self.post):%Y-%m-%d} 前拨付。"
        )
        return lines

    def inspection_accounts(self) -> list[str]:
        region = {code: unit.region for code, unit in self.units.items()}
        lines = []
        for code, check in self.spot_checks.items():
            rate = check.verified_rate
            if rate is not None and rate < Decimal("0.6"):
                lines.append(
                    f"  u{code}l    {region[code]}：名册抽查核实率 {rate:.0%}（名存实亡、查无此会均附核查说明），"
                    "得分按核实后的数字计算"
                )
        for code, check in self.spot_checks.items():
            if not check.complete and check.inspector is not None:
                lines.append(
                    f"  {check.inspector.username}    评审专家：{region[code]}名册抽查的核查人，尚有样本待核查"
                )
        overdue = sum(1 for line in award_lines(self.pilot) if line.overdue)
        lines.append(
            f"  finance     计划财务部：首页显示 {overdue} 项试点示范资助逾期未拨付；"
            "拨付登记、支持名单和通报可从 http://127.0.0.1:5000/finance 下载"
        )
        return lines

    def results_summary(self) -> list[str]:
        """Results, decisions and publicity of both programs, one line each."""
        lines = ["评审、结果与公示："]
        for kind in ("pilot", "post"):
            program = self.program(kind)
            run = self.runs[kind]
            ranked = len(run.result_data()["applications"])
            decisions = current_decisions(program)
            counts = Counter(DecisionKind(d.kind) for d in decisions.values())
            funded = sum(counts[k] for k in DecisionKind if k.funded)
            money = sum((d.amount or Decimal(0)) for d in decisions.values() if DecisionKind(d.kind).funded)
            reviews = Counter(
                a.application_id
                for a in program_assignments(program)
                if AssignmentStatus(a.status) == AssignmentStatus.submitted
            )
            round_ = latest_round(program)
            period = f"{round_.start_date:%m-%d} 至 {round_.end_date:%m-%d} 公示"
            others = "、".join(
                f"{k.label} {counts[k]} 个"
                for k in (DecisionKind.commendation, DecisionKind.criticism)
                if counts[k]
            )
            line = (
                f"  {ProgramKind(program.kind).label}（当前阶段：{program.phase_label}）：{len(self.experts)} 位专家评审，"
                f"每份 {min(reviews.values())}–{max(reviews.values())} 份评分；第 {run.number} 次评审结果排名 {ranked} 个，"
                f"资助 {funded} 个共 {float(money) / 10000:g} 万元（预算 {float(program.budget) / 10000:g} 万元）"
                + (f"，{others}" if others else "")
                + f"；{period}"
            )
            if kind == "pilot":
                line += f"，{format_beijing(program.phase_changed_at, '%m-%d')} 定案，单位可查看结果。"
            else:
                found = objections(program)
                open_ = sum(1 for o in found if o.conclusion == Conclusion.pending)
                line += f"，收到实名异议 {len(found)} 件（{len(found) - open_} 件已办结，{open_} 件调查中）。"
            lines.append(line)
        return lines
