"""Expert-review operations: conflicts, assignment, scoring, locking, reminders. Flush and audit; never
commit. Scores are validated here against the rubric (0..max on the step); totals are never computed
here — only the scoring engine aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.applications.models import Application, ApplicationStatus
from webapp.audit.operations import log_event
from webapp.auth.models import Role, User
from webapp.auth.permissions import ALLOW, Decision, deny
from webapp.campaigns.models import Phase, Program
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import now
from webapp.reviews.assign import AssignmentImpossible, balanced_assignment
from webapp.reviews.conflicts import Region, region_conflict
from webapp.reviews.models import (
    ACTIVE,
    Assignment,
    AssignmentStatus,
    ExclusionRequest,
    ExclusionStatus,
    Message,
    Score,
)

MIN_OPINION = 20
ASSIGNING_PHASES = (Phase.formal_check, Phase.review)


class ReviewError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _require(decision: Decision) -> None:
    if not decision.allowed:
        raise ReviewError([decision.reason])


# ---------------------------------------------------------------- conflicts


def _region(unit) -> Region:
    return Region(unit.code, unit.parent_code)


def experts() -> list[User]:
    """Every enabled expert account."""
    return list(db.session.scalars(
        select(User).where(User.role == Role.expert, User.is_enabled.is_(True)).order_by(User.id)))


def conflict_reason(expert: User, application: Application) -> str | None:
    """Why ``expert`` may not see ``application`` at all (region, accepted exclusion, declared conflict).

    The reason is only shown (never stored), so it is translated here.
    """
    if expert.home_region is None:
        return _("专家未登记所在地区")
    campaign = application.program.campaign
    reason = region_conflict(_region(expert.home_region), _region(application.unit),
                             corps_with_xinjiang=campaign.corps_conflicts_with_xinjiang)
    if reason:
        return _(reason)
    excluded = db.session.scalar(select(ExclusionRequest.id).where(
        ExclusionRequest.application_id == application.id, ExclusionRequest.expert_id == expert.id,
        ExclusionRequest.status == ExclusionStatus.accepted))
    if excluded:
        return _("申报单位申请回避，业务处室已同意")
    declined = db.session.scalar(select(Assignment.declined_reason).where(
        Assignment.application_id == application.id, Assignment.expert_id == expert.id,
        Assignment.status == AssignmentStatus.declined))
    if declined:
        return _("专家本人申明回避：%(reason)s", reason=declined)
    return None


def passed_applications(program: Program) -> list[Application]:
    apps = db.session.scalars(select(Application).where(
        Application.program_id == program.id, Application.status == ApplicationStatus.passed)).all()
    return sorted(apps, key=lambda a: a.unit.sort_key)


# ---------------------------------------------------------------- assignment


def _can_assign(program: Program) -> Decision:
    if Phase(program.phase) not in ASSIGNING_PHASES:
        return deny(_("项目当前阶段为“%(phase)s”，只有形式审查和专家评审阶段可以分配评审。",
                      phase=_(program.phase_label)))
    return ALLOW


def _activate(application: Application, expert: User, *, actor) -> Assignment:
    existing = db.session.scalar(select(Assignment).where(
        Assignment.application_id == application.id, Assignment.expert_id == expert.id))
    current = now()
    if existing is not None:
        if AssignmentStatus(existing.status) in ACTIVE:
            return existing
        existing.status = AssignmentStatus.assigned
        existing.updated_at = current
        assignment = existing
    else:
        assignment = Assignment(application=application, expert=expert, status=AssignmentStatus.assigned,
                                created_at=current, updated_at=current)
        db.session.add(assignment)
    db.session.flush()
    return assignment


@dataclass(frozen=True)
class AssignmentSummary:
    created: int
    skipped_conflicts: int
    loads: dict[int, int]


def assign_full_panel(program: Program, *, actor) -> AssignmentSummary:
    """Every non-conflicted expert reviews every application that passed the formal check."""
    _require(_can_assign(program))
    created = skipped = 0
    for application in passed_applications(program):
        for expert in experts():
            if conflict_reason(expert, application):
                skipped += 1
                continue
            before = db.session.scalar(select(Assignment.status).where(
                Assignment.application_id == application.id, Assignment.expert_id == expert.id))
            _activate(application, expert, actor=actor)
            if before is None or AssignmentStatus(before) not in ACTIVE:
                created += 1
    loads = _loads(program)
    log_event("review.assign", obj=program, actor=actor, detail={"mode": "full", "created": created,
                                                                 "conflicts": skipped})
    return AssignmentSummary(created, skipped, loads)


def assign_k_per_application(program: Program, k: int, *, actor) -> AssignmentSummary:
    """k reviews per application, balanced across experts (loads differ by at most one where conflicts
    allow). Only on a program without active assignments yet."""
    _require(_can_assign(program))
    applications = passed_applications(program)
    if any(_active(a) for a in applications):
        raise ReviewError([_("本项目已有评审分配；按份数分配只能在尚未分配时使用，请改用手工调整。")])
    panel = experts()
    if not panel:
        raise ReviewError([_("还没有评审专家账户。")])
    eligible = {a.id: [e.id for e in panel if not conflict_reason(e, a)] for a in applications}
    try:
        plan = balanced_assignment([a.id for a in applications], [e.id for e in panel], eligible, k)
    except AssignmentImpossible as exc:
        names = {a.id: a.unit.name for a in applications}
        short = _("、").join(_("%(unit)s（仅 %(n)s 位可评）", unit=names[a], n=n) for a, n in exc.short.items())
        raise ReviewError([_("回避后专家不足：每份需要 %(k)s 位，但 %(short)s。请减少每份评审人数或增加专家。",
                             k=k, short=short)]) from None
    by_id = {a.id: a for a in applications}
    experts_by_id = {e.id: e for e in panel}
    for a, e in plan.pairs:
        _activate(by_id[a], experts_by_id[e], actor=actor)
    log_event("review.assign", obj=program, actor=actor, detail={
        "mode": "k", "k": k, "created": len(plan.pairs), "load_range": [plan.low, plan.high]})
    return AssignmentSummary(len(plan.pairs), 0, _loads(program))


def _active(application: Application) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(
        Assignment.application_id == application.id, Assignment.status.in_(ACTIVE))))


def _loads(program: Program) -> dict[int, int]:
    loads = {e.id: 0 for e in experts()}
    for assignment in program_assignments(program):
        if AssignmentStatus(assignment.status) in ACTIVE:
            loads[assignment.expert_id] = loads.get(assignment.expert_id, 0) + 1
    return loads


def program_assignments(program: Program) -> list[Assignment]:
    return list(db.session.scalars(
        select(Assignment).join(Application).where(Application.program_id == program.id).order_by(Assignment.id)))


def add_assignment(application: Application, expert: User, *, actor) -> Assignment:
    """Manual assignment (also how a declined review is reassigned to someone else)."""
    _require(_can_assign(application.program))
    if Role(expert.role) != Role.expert or not expert.is_enabled:
        raise ReviewError([_("只能分配给启用的评审专家账户。")])
    if ApplicationStatus(application.status) != ApplicationStatus.passed:
        raise ReviewError([_("只有通过形式审查的申报可以分配评审。")])
    reason = conflict_reason(expert, application)
    if reason:
        raise ReviewError([_("%(expert)s不能评审%(unit)s：%(reason)s。", expert=expert.display_name,
                              unit=application.unit.name, reason=reason)])
    assignment = _activate(application, expert, actor=actor)
    log_event("review.assign_one", obj=assignment, actor=actor,
              detail={"application": application.id, "expert": expert.username})
    return assignment


def remove_assignment(assignment: Assignment, *, actor) -> None:
    """Take an unsubmitted review off an expert (kept on record as removed)."""
    _require(_can_assign(assignment.application.program))
    if AssignmentStatus(assignment.status) != AssignmentStatus.assigned:
        raise ReviewError([_("该评审状态为“%(status)s”，不能撤销；已提交的评审请先退回。",
                             status=_(assignment.status_label))])
    assignment.status = AssignmentStatus.removed
    assignment.updated_at = now()
    db.session.flush()
    log_event("review.unassign", obj=assignment, actor=actor,
              detail={"application": assignment.application_id, "expert": assignment.expert.username})


# ---------------------------------------------------------------- the expert's side


def can_review(user, assignment: Assignment) -> Decision:
    """The expert may open this review: it is theirs, active, and (re)checked for conflicts."""
    if not user.is_authenticated or assignment.expert_id != user.id:
        return deny(_("不是您的评审任务。"))
    if AssignmentStatus(assignment.status) not in ACTIVE:
        return deny(_("该评审任务已结束。"))
    if conflict_reason(user, assignment.application):
        return deny(_("您与该申报存在回避关系。"))
    return ALLOW


def can_score(user, assignment: Assignment) -> Decision:
    decision = can_review(user, assignment)
    if not decision.allowed:
        return decision
    program = assignment.application.program
    if Phase(program.phase) != Phase.review:
        return deny(_("项目当前阶段为“%(phase)s”，不在专家评审阶段，评分表只读。", phase=_(program.phase_label)))
    if AssignmentStatus(assignment.status) == AssignmentStatus.submitted:
        return deny(_("评分已提交并锁定；如需修改，请联系业务处室退回。"))
    return ALLOW


def parse_scores(rubric, raw: dict[str, str | None]) -> tuple[dict[str, Decimal | None], list[str]]:
    """Check each expert criterion's typed score: a number in [0, max] on the rubric's step."""
    values: dict[str, Decimal | None] = {}
    problems = []
    for criterion in rubric.expert_criteria:
        text = (raw.get(criterion.key) or "").strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
        if text == "":
            values[criterion.key] = None
            continue
        try:
            value = Decimal(text)
        except InvalidOperation:
            problems.append(_("“%(title)s”应填写数字，“%(text)s”不是数字。", title=criterion.title, text=text))
            continue
        if not value.is_finite() or value < 0 or value > criterion.max:
            problems.append(_("“%(title)s”的分数应在 0 到 %(max)s 之间，您填写的是 %(text)s。",
                              title=criterion.title, max=criterion.max, text=text))
            continue
        if (value / criterion.step) % 1 != 0:
            problems.append(_("“%(title)s”的分数须为 %(step)s 的整数倍（如 %(example)s），%(text)s 不符合。",
                              title=criterion.title, step=criterion.step, example=criterion.step * 2, text=text))
            continue
        values[criterion.key] = value
    return values, problems


def save_review(assignment: Assignment, *, raw_scores: dict[str, str | None], opinion: str, submit: bool,
                actor) -> list[str]:
    """Save a draft (anything valid so far) or submit (every criterion and an opinion); submit locks.

    Returns nothing useful on success; raises ReviewError with every problem otherwise, saving nothing.
    """
    # Two tabs or a double click: wait for any concurrent save of this review, then judge on what it left.
    # (PostgreSQL: SELECT ... FOR UPDATE; SQLite: transactions are already serialised.)
    db.session.refresh(assignment, with_for_update=True)
    db.session.expire(assignment, ["scores"])
    _require(can_score(actor, assignment))
    rubric = rubric_of(assignment.application.program)
    values, problems = parse_scores(rubric, raw_scores)
    opinion = (opinion or "").strip()
    if submit:
        for criterion in rubric.expert_criteria:
            if values.get(criterion.key) is None and not any(criterion.title in p for p in problems):
                problems.append(_("“%(title)s”未评分。", title=criterion.title))
        if len(opinion) < MIN_OPINION:
            problems.append(_("评审意见至少 %(min)s 字（当前 %(n)s 字）。", min=MIN_OPINION, n=len(opinion)))
    if problems:
        raise ReviewError(problems)
    existing = {s.criterion: s for s in assignment.scores}
    for key, value in values.items():
        if key in existing:
            existing[key].score = value
        else:
            db.session.add(Score(assignment=assignment, criterion=key, score=value))
    assignment.opinion = opinion or None
    assignment.updated_at = now()
    if submit:
        assignment.status = AssignmentStatus.submitted
        assignment.submitted_at = now()
    db.session.flush()
    log_event("review.submit" if submit else "review.save", obj=assignment, actor=actor, detail={
        "application": assignment.application_id,
        "scores": {k: None if v is None else str(v) for k, v in values.items()},
    })
    return []


def declare_conflict(assignment: Assignment, *, reason: str, actor) -> None:
    """The expert declares a conflict: the assignment ends and the office is told."""
    _require(can_review(actor, assignment))
    if AssignmentStatus(assignment.status) == AssignmentStatus.submitted:
        raise ReviewError([_("评分已提交，如存在回避情形请联系业务处室处理。")])
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ReviewError([_("请写明回避理由（例如曾在该单位任职、近三年有合作）。")])
    assignment.status = AssignmentStatus.declined
    assignment.declined_reason = reason
    assignment.updated_at = now()
    db.session.flush()
    for office in db.session.scalars(select(User).where(User.role == Role.office, User.is_enabled.is_(True))):
        send_message(office, subject=f"专家申明回避：{assignment.application.unit.name}",
                     body=f"{actor.display_name}申明回避{assignment.application.program.title}"
                          f"“{assignment.application.unit.name}”的评审，理由：{reason}。请视需要重新分配。",
                     sender=actor)
    log_event("review.declare_conflict", obj=assignment, actor=actor,
              detail={"application": assignment.application_id, "reason": reason})


def reopen_review(assignment: Assignment, *, reason: str, actor) -> None:
    """Office only: unlock a submitted review so the expert can change it; the reason is recorded."""
    if Phase(assignment.application.program.phase) != Phase.review:
        raise ReviewError([_("只有专家评审阶段可以退回评分。")])
    if AssignmentStatus(assignment.status) != AssignmentStatus.submitted:
        raise ReviewError([_("只有已提交的评分可以退回修改。")])
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ReviewError([_("请写明退回理由。")])
    assignment.status = AssignmentStatus.assigned
    assignment.submitted_at = None
    assignment.updated_at = now()
    db.session.flush()
    send_message(assignment.expert, subject=f"评分已退回：{assignment.application.unit.name}",
                 body=f"业务处室退回了您对“{assignment.application.unit.name}”的评分，理由：{reason}。请修改后重新提交。",
                 sender=actor)
    log_event("review.reopen", obj=assignment, actor=actor,
              detail={"application": assignment.application_id, "expert": assignment.expert.username,
                      "reason": reason})


# ---------------------------------------------------------------- exclusions and messages


def request_exclusion(application: Application, *, expert_name: str, affiliation: str, reason: str,
                      actor) -> ExclusionRequest:
    from webapp.applications import rules

    _require(rules.can_edit(actor, application, now()))
    expert_name, reason = (expert_name or "").strip(), (reason or "").strip()
    if not expert_name or not reason:
        raise ReviewError([_("请填写需回避专家的姓名和申请回避的理由。")])
    request = ExclusionRequest(application=application, expert_name=expert_name[:80],
                               expert_affiliation=(affiliation or "").strip()[:120] or None, reason=reason,
                               status=ExclusionStatus.pending, requested_by_id=actor.id, requested_at=now())
    db.session.add(request)
    db.session.flush()
    log_event("review.exclusion_request", obj=application, actor=actor,
              detail={"expert_name": expert_name, "reason": reason})
    return request


def decide_exclusion(request: ExclusionRequest, *, accept: bool, expert: User | None, note: str,
                     actor) -> None:
    """Office accepts (naming the expert account) or declines (with a note) a unit's exclusion request."""
    if ExclusionStatus(request.status) != ExclusionStatus.pending:
        raise ReviewError([_("该回避申请已处理。")])
    note = (note or "").strip()
    if accept:
        if expert is None or Role(expert.role) != Role.expert:
            raise ReviewError([_("同意回避时请选择对应的专家账户。")])
        request.expert_id = expert.id
        request.status = ExclusionStatus.accepted
        for assignment in _active(request.application):
            if assignment.expert_id == expert.id:
                if AssignmentStatus(assignment.status) == AssignmentStatus.submitted:
                    raise ReviewError([_("该专家已提交评分；请先退回其评分，再同意回避。")])
                assignment.status = AssignmentStatus.removed
                assignment.updated_at = now()
    else:
        if not note:
            raise ReviewError([_("不同意回避时请写明理由，单位将看到这段说明。")])
        request.status = ExclusionStatus.declined
    request.decision_note = note or None
    request.decided_by_id = actor.id
    request.decided_at = now()
    db.session.flush()
    log_event("review.exclusion_decide", obj=request.application, actor=actor, detail={
        "request": request.id, "accept": accept, "expert": expert.username if expert else None, "note": note})


def send_message(recipient: User, *, subject: str, body: str, sender=None) -> Message:
    message = Message(recipient_id=recipient.id, sender_id=getattr(sender, "id", None), subject=subject[:200],
                      body=body, created_at=now())
    db.session.add(message)
    db.session.flush()
    return message


def remind(program: Program, *, expert_ids: list[int] | None, actor) -> int:
    """Send each expert with unfinished reviews an in-app reminder; returns how many were sent."""
    pending: dict[int, int] = {}
    for assignment in program_assignments(program):
        if AssignmentStatus(assignment.status) == AssignmentStatus.assigned:
            pending[assignment.expert_id] = pending.get(assignment.expert_id, 0) + 1
    sent = 0
    for expert_id, count in pending.items():
        if expert_ids is not None and expert_id not in expert_ids:
            continue
        send_message(db.session.get(User, expert_id), subject=f"评审提醒：{program.title}",
                     body=f"您还有 {count} 份申报尚未提交评分，请抓紧完成。", sender=actor)
        sent += 1
    log_event("review.remind", obj=program, actor=actor, detail={"experts": sent})
    return sent


def progress(program: Program) -> dict:
    """Counts per expert and per application (for the office)."""
    by_expert: dict[int, dict[str, int]] = {}
    by_application: dict[int, dict[str, int]] = {}
    for assignment in program_assignments(program):
        status = AssignmentStatus(assignment.status).value
        by_expert.setdefault(assignment.expert_id, {}).setdefault(status, 0)
        by_expert[assignment.expert_id][status] += 1
        by_application.setdefault(assignment.application_id, {}).setdefault(status, 0)
        by_application[assignment.application_id][status] += 1
    return {"experts": by_expert, "applications": by_application}
