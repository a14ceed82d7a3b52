"""Publicity (公示): open a round, take real-name objections, keep the register, finalise.

A round lasts at least 5 Chinese working days by the calendar (调休 included); for a year the calendar
does not know, the office must confirm the end date by hand and is warned. An upheld objection that
changes a decision needs a new round for what changed before the program can become final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.applications.models import Application
from webapp.applications.uploads import UploadRejected, remove_if_unreferenced, store_upload
from webapp.audit.models import AuditResult
from webapp.audit.operations import log_event
from webapp.auth.permissions import ALLOW, deny
from webapp.campaigns.models import Phase, Program
from webapp.campaigns.operations import CampaignError, advance_phase
from webapp.campaigns.workflow import guard
from webapp.core.db import db
from webapp.core.timeutil import beijing, beijing_datetime, now
from webapp.core.workdays import nth_working_day, working_days_between
from webapp.publicity.models import Conclusion, Objection, PublicityRound, RegisterEntry
from webapp.results.models import Decision

MIN_WORKING_DAYS = 5
MB = 1024 * 1024


class PublicityError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PeriodPlan:
    start: date
    end: date
    known: bool
    unknown_years: tuple[int, ...]


def plan_period(start: date) -> PeriodPlan:
    """The earliest end of a round starting on ``start``: the 5th Chinese working day (start counts)."""
    span = nth_working_day(start, MIN_WORKING_DAYS)
    return PeriodPlan(start, span.end, span.known, span.unknown_years)


def rounds(program: Program) -> list[PublicityRound]:
    return list(db.session.scalars(select(PublicityRound).where(PublicityRound.program_id == program.id)
                                   .order_by(PublicityRound.number)))


def latest_round(program: Program) -> PublicityRound | None:
    found = rounds(program)
    return found[-1] if found else None


def _changed_since(program: Program, moment: datetime) -> list[int]:
    """Applications whose decision changed after ``moment`` (they must be published again)."""
    rows = db.session.scalars(select(Decision).join(Application).where(
        Application.program_id == program.id, Decision.superseded_at.is_(None), Decision.decided_at > moment)).all()
    return sorted({d.application_id for d in rows})


def open_round(program: Program, *, start: date, contact: str, confirmed_end: date | None = None,
               actor) -> PublicityRound:
    """Open the first round (moving the program to publicity) or a later round for changed decisions."""
    contact = (contact or "").strip()
    if len(contact) < 10:
        raise PublicityError([_("请填写受理异议的部门、电话和地址（公众据此提出异议）。")])
    if start < beijing(now()).date():
        raise PublicityError([_("公示开始日期不能早于今天。")])
    plan = plan_period(start)
    end = plan.end
    by_hand = False
    if not plan.known:
        if confirmed_end is None:
            years = "、".join(str(y) for y in plan.unknown_years)
            raise PublicityError([_(
                "日历尚未收录 %(years)s 年的法定节假日和调休安排，无法自动计算 5 个工作日。系统按仅周末休息估算的截止日为 "
                "%(end)s；请核对国务院办公厅公布的安排后，手工填写并确认公示截止日期。",
                years=years, end=f"{end:%Y-%m-%d}")])
        if confirmed_end < end:
            raise PublicityError([_("手工确认的截止日期不能早于 %(end)s（按周末估算的第 5 个工作日）。",
                                     end=f"{end:%Y-%m-%d}")])
        end, by_hand = confirmed_end, True
    existing = rounds(program)
    if not existing:
        try:
            advance_phase(program, Phase.publicity, reason="开始公示", actor=actor)
        except CampaignError as exc:
            raise PublicityError(exc.problems) from None
        scope: list[int] = []
    else:
        if Phase(program.phase) != Phase.publicity:
            raise PublicityError([_("只有公示阶段可以就变更内容重新公示。")])
        last = existing[-1]
        if beijing(now()).date() <= last.end_date:
            raise PublicityError([_("第 %(n)s 轮公示尚未结束（至 %(end)s）。", n=last.number,
                                     end=f"{last.end_date:%Y-%m-%d}")])
        scope = _changed_since(program, last.opened_at)
        if not scope:
            raise PublicityError([_("上一轮公示后没有变更的决定，无需重新公示。")])
    round_ = PublicityRound(program_id=program.id, number=len(existing) + 1, start_date=start, end_date=end,
                            working_days=working_days_between(start, end).working_days,
                            end_confirmed_by_hand=by_hand, scope=json.dumps(scope), contact=contact,
                            opened_by_id=actor.id, opened_at=now())
    db.session.add(round_)
    program.publicity_start = start if not existing else program.publicity_start
    program.publicity_end = end
    db.session.flush()
    log_event("publicity.open", obj=program, actor=actor, detail={
        "round": round_.number, "start": start.isoformat(), "end": end.isoformat(), "by_hand": by_hand,
        "scope": scope})
    return round_


def open_round_now(program: Program) -> PublicityRound | None:
    """The round whose period contains today (Beijing time), if any."""
    today = beijing(now()).date()
    for round_ in reversed(rounds(program)):
        if round_.start_date <= today <= round_.end_date:
            return round_
    return None


def lodge_objection(program: Program, *, name: str, organisation: str, phone: str, content: str,
                    application_id: int | None, upload: tuple[BinaryIO, str] | None, ip: str | None) -> Objection:
    """A member of the public objects (real name, during the period). Returns it with its receipt number."""
    round_ = open_round_now(program)
    if round_ is None:
        last = latest_round(program)
        # The audit log keeps the Chinese reason; the visitor is told it in the interface language.
        if last is not None and beijing(now()).date() > last.end_date:
            reason = f"公示期已于 {last.end_date:%Y-%m-%d} 结束，逾期提出的异议不予受理。"
            shown = _("公示期已于 %(end)s 结束，逾期提出的异议不予受理。", end=f"{last.end_date:%Y-%m-%d}")
        else:
            reason = "该项目当前不在公示期，不受理异议。"
            shown = _("该项目当前不在公示期，不受理异议。")
        log_event("publicity.objection", obj=program, actor="公众", result=AuditResult.denied,
                  detail={"reason": reason})
        raise PublicityError([shown])
    fields = {"name": (name or "").strip(), "organisation": (organisation or "").strip(),
              "phone": (phone or "").strip(), "content": (content or "").strip()}
    problems = []
    if not fields["name"] or not fields["phone"] or not fields["organisation"]:
        problems.append(_("异议须实名提出：请填写真实姓名、工作单位和联系电话；匿名异议不予受理。"))
    if len(fields["content"]) < 10:
        problems.append(_("请写明异议的具体内容和事实依据（至少 10 字）。"))
    digits = "".join(c for c in fields["phone"] if c.isdigit())
    if fields["phone"] and len(digits) < 7:
        problems.append(_("联系电话格式不正确，请填写可以联系到您的电话号码。"))
    if application_id is not None and db.session.scalar(select(Application.id).where(
            Application.id == application_id, Application.program_id == program.id)) is None:
        problems.append(_("请选择公示名单中的单位。"))
    if problems:
        raise PublicityError(problems)
    stored = None
    if upload is not None:
        stream, filename = upload
        try:
            stored = store_upload(stream, filename, upload_dir=Path(current_app.config["UPLOAD_DIR"]),
                                  max_bytes=int(current_app.config["UPLOAD_MAX_FILE_MB"] * MB))
        except UploadRejected as exc:
            raise PublicityError([exc.message]) from None
    try:
        year = program.campaign.year
        sequence = (db.session.scalar(select(func.count()).select_from(Objection).join(PublicityRound).where(
            PublicityRound.program_id == program.id)) or 0) + 1
        objection = Objection(
            receipt_no=f"{year}GS{program.id:02d}-{sequence:04d}", round_id=round_.id, application_id=application_id,
            name=fields["name"][:60], organisation=fields["organisation"][:120], phone=fields["phone"][:40],
            content=fields["content"], submitted_at=now(), ip=ip,
            attachment_name=stored.original_name if stored else None,
            attachment_sha256=stored.sha256 if stored else None, attachment_size=stored.size if stored else None,
            attachment_mime=stored.mime if stored else None,
        )
        db.session.add(objection)
        db.session.flush()
    except BaseException:
        if stored is not None and not stored.already_stored:
            remove_if_unreferenced(Path(current_app.config["UPLOAD_DIR"]), stored.sha256, still_referenced=False)
        raise
    log_event("publicity.objection", obj=objection, actor=f"公众：{objection.name}", detail={
        "receipt": objection.receipt_no, "round": round_.number, "application": application_id})
    return objection


def record_entry(objection: Objection, *, investigation: str, conclusion: Conclusion, reply: str,
                 concluded_on: date | None, replied_on: date | None, actor) -> RegisterEntry:
    """Add a new version of the register entry (earlier versions are kept as they were)."""
    if Phase(objection.round.program.phase) not in (Phase.publicity,):
        raise PublicityError([_("只有公示阶段可以登记异议处理情况。")])
    problems = []
    if conclusion != Conclusion.pending:
        if not (reply or "").strip():
            problems.append(_("作出结论时须填写答复内容。"))
        if concluded_on is None:
            problems.append(_("作出结论时须填写结论日期。"))
    if problems:
        raise PublicityError(problems)
    version = len(objection.entries) + 1
    entry = RegisterEntry(objection=objection, version=version, investigation=(investigation or "").strip(),
                          conclusion=conclusion, reply=(reply or "").strip(), concluded_on=concluded_on,
                          replied_on=replied_on, recorded_by_id=actor.id, recorded_at=now())
    db.session.add(entry)
    db.session.flush()
    log_event("publicity.register", obj=objection, actor=actor, detail={
        "version": version, "conclusion": conclusion.value})
    return entry


def objections(program: Program) -> list[Objection]:
    return list(db.session.scalars(select(Objection).join(PublicityRound).where(
        PublicityRound.program_id == program.id).order_by(Objection.id)))


@guard(Phase.publicity, Phase.final)
def _publicity_complete(program: Program, at: datetime):
    found = rounds(program)
    if not found:
        return deny(_("尚未公示。"))
    last = found[-1]
    if beijing(at).date() <= last.end_date:
        return deny(_("第 %(n)s 轮公示至 %(end)s 结束，期满后方可定案。", n=last.number,
                       end=f"{last.end_date:%Y-%m-%d}"))
    pending = [o.receipt_no for o in objections(program) if o.conclusion == Conclusion.pending]
    if pending:
        return deny(_("还有 %(n)s 件异议没有结论（如 %(receipt)s），全部办结后方可定案。", n=len(pending),
                       receipt=pending[0]))
    changed = _changed_since(program, last.opened_at)
    if changed:
        return deny(_("第 %(n)s 轮公示开始后有 %(count)s 个单位的决定发生变更，须就变更部分重新公示。",
                       n=last.number, count=len(changed)))
    return ALLOW


def finalise(program: Program, *, actor) -> None:
    """定案: freezes decisions and amounts (no decision can change in the final phase)."""
    try:
        advance_phase(program, Phase.final, reason="公示期满，异议办结，定案", actor=actor)
    except CampaignError as exc:
        raise PublicityError(exc.problems) from None


def period_end_instant(round_: PublicityRound) -> datetime:
    return beijing_datetime(round_.end_date + timedelta(days=1), time(0, 0))
