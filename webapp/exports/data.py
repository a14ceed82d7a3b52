"""Gathering export inputs from the database (views call these, then a pure export function)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from webapp.applications.models import Application
from webapp.auth.models import User
from webapp.campaigns.models import Campaign, Phase, Program, ProgramKind
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import format_beijing
from webapp.exports.models import NoticeDraft, NoticeKind
from webapp.payments.models import Payment
from webapp.payments.operations import award_lines
from webapp.publicity.operations import objections
from webapp.results.models import DecisionKind
from webapp.results.operations import current_decisions, latest_run
from webapp.reviews.models import Assignment, AssignmentStatus
from webapp.units.models import UnitCategory

FINAL_PHASES = (Phase.final, Phase.paid)


def _result_rows(program: Program) -> dict[str, dict]:
    decisions = current_decisions(program)
    run = next(iter(decisions.values())).run if decisions else latest_run(program)
    if run is None:
        return {}
    return {r["application"]: r for r in run.result_data()["applications"]}


def award_rows(program: Program):
    """One AwardRow per funded final decision, in unit order (payment state in the remarks)."""
    from webapp.exports.award_list import AwardRow

    results = _result_rows(program)
    rows = []
    for line in award_lines(program):
        decision = line.decision
        application: Application = decision.application
        unit = application.unit
        result = results.get(unit.code, {})
        remarks = []
        if line.payment is not None:
            remarks.append(f"已拨付 {line.payment.paid_on:%Y-%m-%d}，凭证 {line.payment.voucher_no}")
        elif line.overdue:
            remarks.append("逾期未拨付")
        if not (application.payee_name and application.bank_account):
            remarks.append("收款信息未填写")
        if decision.overridden:
            remarks.append(f"调整：{decision.reason}")
        matching = (
            application.figure_values().get("matching_funds") if program.kind == ProgramKind.pilot else None
        )
        rows.append(
            AwardRow(
                unit_code=unit.code,
                unit_name=unit.name,
                category=UnitCategory(unit.category).label,
                program=ProgramKind(program.kind).label,
                support_type=DecisionKind(decision.kind).label,
                score=Decimal(str(result["total"])) if result.get("total") is not None else None,
                rank=result.get("rank"),
                amount=decision.amount,
                matching_funds=matching,
                payee_name=application.payee_name,
                bank=application.bank_name,
                account=application.bank_account,
                payment_due=line.due,
                remarks="；".join(remarks),
            )
        )
    return rows


def breakdown_rows(program: Program):
    from webapp.exports.award_list import BreakdownRow

    decisions = current_decisions(program)
    run = next(iter(decisions.values())).run if decisions else latest_run(program)
    if run is None:
        return []
    names = {a[0]: a[1] for a in run.inputs_data()["applications"]}
    return [
        BreakdownRow(
            unit_code=r["application"],
            unit_name=names.get(r["application"], r["application"]),
            program=ProgramKind(program.kind).label,
            rank=r["rank"],
            total=None if r["total"] is None else Decimal(str(r["total"])),
            criteria={k: None if v is None else Decimal(str(v)) for k, v in r["criteria"].items()},
        )
        for r in run.result_data()["applications"]
    ]


def register_rows(program: Program):
    from webapp.exports.award_list import RegisterRow

    rows = []
    for objection in objections(program):
        entry = objection.current
        rows.append(
            RegisterRow(
                receipt_no=objection.receipt_no,
                submitted_at=format_beijing(objection.submitted_at),
                name=objection.name,
                organisation=objection.organisation,
                unit=objection.application.unit.name if objection.application else None,
                content=objection.content,
                conclusion=objection.conclusion.label,
                reply=entry.reply if entry else "",
                concluded_on=entry.concluded_on.isoformat() if entry and entry.concluded_on else "",
            )
        )
    return rows


def criteria_columns(program: Program):
    return [(c.key, c.title, c.max) for c in rubric_of(program).criteria]


# ---------------------------------------------------------------- score sheets and summary


def expert_sheets(program: Program):
    from webapp.exports.sheets import ExpertReview, ExpertSheet

    by_expert: dict[int, list[Assignment]] = {}
    rows = db.session.scalars(
        select(Assignment)
        .join(Application)
        .where(
            Application.program_id == program.id,
            Assignment.status.in_([AssignmentStatus.submitted, AssignmentStatus.assigned]),
        )
    ).all()
    for assignment in rows:
        by_expert.setdefault(assignment.expert_id, []).append(assignment)
    sheets = []
    for expert_id, assignments in sorted(by_expert.items()):
        expert = db.session.get(User, expert_id)
        reviews = [
            ExpertReview(
                unit_code=a.application.unit.code,
                unit_name=a.application.unit.name,
                scores=a.score_map(),
                opinion=a.opinion or "",
                submitted_on=a.submitted_at.strftime("%Y-%m-%d") if a.submitted_at else "",
            )
            for a in sorted(assignments, key=lambda a: a.application.unit.sort_key)
        ]
        sheets.append(
            ExpertSheet(
                expert_name=expert.display_name, affiliation=expert.affiliation or "", reviews=reviews
            )
        )
    return sheets


def summary_rows(program: Program):
    from webapp.exports.sheets import SummaryRow

    run = latest_run(program)
    if run is None:
        return None, [], []
    extras = run.extras_data()
    names = {a[0]: a[1] for a in run.inputs_data()["applications"]}
    experts = extras.get("expert_ids", [])
    rows = [
        SummaryRow(
            rank=r["rank"],
            unit_code=r["application"],
            unit_name=names.get(r["application"], ""),
            reviewer_totals={
                e: (None if v is None else Decimal(str(v)))
                for e, v in extras["reviewer_totals"].get(r["application"], {}).items()
            },
            criteria={k: None if v is None else Decimal(str(v)) for k, v in r["criteria"].items()},
            total=None if r["total"] is None else Decimal(str(r["total"])),
            flags="、".join(r["flags"]),
        )
        for r in run.result_data()["applications"]
    ]
    return run, experts, rows


# ---------------------------------------------------------------- notices


def notice_units(campaign: Campaign, kind: NoticeKind):
    """Units of final programs: commended (funded or commendation-only) or criticised, with a detail line."""
    from webapp.exports.notices import NoticeUnit

    wanted = (
        (DecisionKind.pilot, DecisionKind.post_subsidy, DecisionKind.commendation)
        if kind == NoticeKind.commendation
        else (DecisionKind.criticism,)
    )
    details: dict[str, list[str]] = {}
    units = {}
    for program in campaign.programs:
        if Phase(program.phase) not in FINAL_PHASES:
            continue
        for decision in current_decisions(program).values():
            if DecisionKind(decision.kind) not in wanted:
                continue
            unit = decision.application.unit
            units[unit.code] = unit
            text = DecisionKind(decision.kind).label
            if decision.amount:
                text += f" {format((decision.amount / 10000).normalize(), 'f')}万元"  # 150000 → 15万元
            if kind == NoticeKind.criticism and decision.reason:
                text = decision.reason
            details.setdefault(unit.code, []).append(text)
    return [
        NoticeUnit(
            code=u.code,
            name=u.name,
            category=UnitCategory(u.category).value,
            detail="；".join(details[u.code]),
        )
        for u in units.values()
    ]


def default_draft(campaign: Campaign, kind: NoticeKind) -> dict:
    year = campaign.year
    basis = (
        f"根据《中国科协{year}年推进企业科协组织建设工作实施方案》（科协计函企字〔2014〕25号）的要求，"
        "中国科协组织专家对各省、自治区、直辖市科协，副省级城市科协和新疆生产建设兵团科协推进企业科协、"
        "园区科协组织建设工作的情况和成效进行了检查考核。"
    )
    process = "考核工作坚持定性评价与定量考核相结合，按照申报、推荐、专家评审、公示的程序进行，公示期间收到的异议均已调查核实并作出答复。"
    if kind == NoticeKind.commendation:
        return {
            "title": f"关于对{year}年企业科协组织建设工作成效显著单位予以通报表扬的通报",
            "body": "\n\n".join(
                [
                    basis,
                    process,
                    "经研究，决定对北京市科学技术协会等单位予以通报表扬，并以“试点示范”和“后补助”方式给予经费支持（名单见附件）。",
                    "希望受到表扬的单位珍惜荣誉，再接再厉，进一步扩大企业科协组织覆盖面，提升服务企业技术创新的能力，"
                    "发挥示范带动作用。各地科协要学习借鉴先进经验，结合实际，狠抓落实，推动企业科协组织建设工作再上新台阶。",
                ]
            ),
        }
    return {
        "title": f"关于对{year}年企业科协组织建设工作考核不合格单位予以通报批评的通报",
        "body": "\n\n".join(
            [
                basis,
                process,
                "经研究，决定对考核不合格的单位予以通报批评（名单及主要问题见附件）。",
                "请被通报批评的单位认真查找原因，制定整改措施，于三个月内将整改情况书面报送中国科协计划财务部。",
            ]
        ),
    }


def get_draft(campaign: Campaign, kind: NoticeKind) -> NoticeDraft | None:
    return db.session.scalar(
        select(NoticeDraft).where(NoticeDraft.campaign_id == campaign.id, NoticeDraft.kind == kind)
    )


def notice_of(campaign: Campaign, kind: NoticeKind, issued_on: date):
    from webapp.exports.notices import Notice

    draft = get_draft(campaign, kind)
    default = default_draft(campaign, kind)
    body = draft.body if draft else default["body"]
    return Notice(
        kind=kind.value,
        issuing_organ="中国科学技术协会",
        doc_number=draft.doc_number if draft else "",
        title=draft.title if draft else default["title"],
        addressees=draft.addressees
        if draft
        else "各省、自治区、直辖市、副省级城市科协，新疆生产建设兵团科协：",
        paragraphs=[p.strip() for p in body.split("\n\n") if p.strip()],
        signature=draft.signature if draft else "中国科协",
        date=draft.issued_on if draft and draft.issued_on else issued_on,
        attachment_title=(
            f"{campaign.year}年企业科协组织建设工作"
            + ("成效显著单位名单" if kind == NoticeKind.commendation else "考核不合格单位名单")
        ),
        units=notice_units(campaign, kind),
    )


def decisions_table(program: Program) -> list[list]:
    rows = []
    for decision in sorted(current_decisions(program).values(), key=lambda d: d.application.unit.sort_key):
        rows.append(
            [
                decision.application.unit.code,
                decision.application.unit.name,
                decision.kind.value,
                "" if decision.amount is None else f"{decision.amount:.2f}",
                decision.proposed_kind.value,
                "" if decision.proposed_amount is None else f"{decision.proposed_amount:.2f}",
                decision.reason,
                format_beijing(decision.decided_at),
            ]
        )
    return rows


def register_table(program: Program) -> list[list]:
    rows = []
    for objection in objections(program):
        for entry in objection.entries or [None]:
            rows.append(
                [
                    objection.receipt_no,
                    format_beijing(objection.submitted_at),
                    objection.name,
                    objection.organisation,
                    objection.application.unit.code if objection.application else "",
                    objection.content,
                    entry.version if entry else 0,
                    entry.conclusion.value if entry else "pending",
                    entry.reply if entry else "",
                    entry.concluded_on.isoformat() if entry and entry.concluded_on else "",
                ]
            )
    return rows


def payments_of(program: Program) -> list[Payment]:
    return [line.payment for line in award_lines(program) if line.payment]
