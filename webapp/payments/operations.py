"""Recording payments; the program becomes 已拨付 (paid) when every award is paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.operations import log_event
from webapp.auth.permissions import ALLOW, deny
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.campaigns.operations import advance_phase
from webapp.campaigns.workflow import guard
from webapp.core.db import db
from webapp.core.timeutil import beijing, now
from webapp.payments.models import Payment
from webapp.results.models import Decision, DecisionKind
from webapp.results.operations import current_decisions


class PaymentError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def due_date(program: Program) -> date:
    """Pilot money is paid by the end of September of the year; post-subsidy in Q1 of the next year."""
    year = program.campaign.year
    if ProgramKind(program.kind) == ProgramKind.pilot:
        return date(year, 9, 30)
    return date(year + 1, 3, 31)


@dataclass(frozen=True)
class AwardLine:
    decision: Decision
    payment: Payment | None
    due: date
    overdue: bool


def award_lines(program: Program) -> list[AwardLine]:
    """Every funded decision of a final program with its payment (if any) and whether it is overdue."""
    if Phase(program.phase) not in (Phase.final, Phase.paid):
        return []
    today = beijing(now()).date()
    due = due_date(program)
    decisions = [d for d in current_decisions(program).values() if DecisionKind(d.kind).funded]
    paid = {p.decision_id: p for p in db.session.scalars(
        select(Payment).where(Payment.decision_id.in_([d.id for d in decisions])))}
    lines = [AwardLine(d, paid.get(d.id), due, d.id not in paid and today > due) for d in decisions]
    return sorted(lines, key=lambda line: line.decision.application.unit.sort_key)


def record_payment(decision: Decision, *, paid_on: date, voucher_no: str, actor) -> Payment:
    """Finance records that an award was paid (date and voucher); audited; the last one closes the program."""
    program = decision.application.program
    problems = []
    if Phase(program.phase) != Phase.final:
        problems.append(_("项目当前阶段为“%(phase)s”，只有定案后的资助可以登记拨付。", phase=_(program.phase_label)))
    if decision.superseded_at is not None or not DecisionKind(decision.kind).funded:
        problems.append(_("该决定不是现行的资助决定。"))
    if db.session.scalar(select(Payment.id).where(Payment.decision_id == decision.id)) is not None:
        problems.append(_("该项资助已登记拨付，不能重复登记。"))
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        problems.append(_("请填写会计凭证号。"))
    if paid_on > beijing(now()).date():
        problems.append(_("拨付日期不能晚于今天。"))
    if problems:
        raise PaymentError(problems)
    payment = Payment(decision_id=decision.id, paid_on=paid_on, voucher_no=voucher_no[:60], amount=decision.amount,
                      recorded_by_id=actor.id, recorded_at=now())
    db.session.add(payment)
    db.session.flush()
    log_event("payment.record", obj=decision.application, actor=actor, detail={
        "decision": decision.id, "amount": str(decision.amount), "paid_on": paid_on.isoformat(),
        "voucher": voucher_no})
    if all(line.payment is not None for line in award_lines(program)):
        advance_phase(program, Phase.paid, reason="全部资助已拨付", actor="系统")
    return payment


@guard(Phase.final, Phase.paid)
def _all_paid(program: Program, at):
    unpaid = [line for line in award_lines(program) if line.payment is None]
    if unpaid:
        return deny(_("还有 %(n)s 项资助未登记拨付。", n=len(unpaid)))
    return ALLOW
