"""Results runs, proposals, decisions and what-ifs. Every score comes from the scoring engine; this module
only gathers its inputs, stores what it answers, and records the office's decisions.

Application keys given to the engine are the units' GB/T 2260 codes (one application per unit per
program); expert keys are usernames. The same rows go into the audit package's CSV files.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from scoring.allocate import allocate
from scoring.engine import ScoringInputError, rank_applications
from scoring.io import dumps_json, loads_json
from webapp.applications.models import Application, ApplicationStatus
from webapp.audit.operations import log_event
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import beijing, now
from webapp.results.models import Decision, DecisionKind, ResultRun
from webapp.reviews.models import Assignment, AssignmentStatus, Score

DEFAULT_BOOTSTRAP = 1000


class ResultsError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# ---------------------------------------------------------------- inputs


def ranked_applications(program: Program) -> list[Application]:
    """The applications that go to the engine: those that passed the formal check."""
    apps = db.session.scalars(select(Application).where(
        Application.program_id == program.id, Application.status == ApplicationStatus.passed)).all()
    return sorted(apps, key=lambda a: a.unit.sort_key)


def collect_inputs(program: Program) -> dict[str, list[list[Any]]]:
    """Scores of submitted reviews, reported figures and the applications, as engine rows (text values)."""
    applications = ranked_applications(program)
    by_id = {a.id: a for a in applications}
    rubric = rubric_of(program)
    expert_keys = {c.key for c in rubric.expert_criteria}
    scores = []
    rows = db.session.execute(
        select(Assignment.application_id, Assignment.expert_id, Score.criterion, Score.score)
        .join(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(list(by_id)), Assignment.status == AssignmentStatus.submitted)
    ).all()
    from webapp.auth.models import User

    usernames = dict(db.session.execute(select(User.id, User.username).where(User.id.in_({r[1] for r in rows}))).all())
    for application_id, expert_id, criterion, score in rows:
        if criterion in expert_keys and score is not None:
            scores.append([by_id[application_id].unit.code, usernames[expert_id], criterion, _plain(score)])
    scores.sort()
    indicators = []
    indicator_keys = [i.key for i in rubric.indicators]
    for application in applications:
        values = effective_figures(application)
        for key in indicator_keys:
            value = values.get(key)
            if value is not None:
                indicators.append([application.unit.code, key, _plain(value)])
    apps = [
        [a.unit.code, a.unit.name, a.unit.category.value,
         beijing(a.submitted_at).strftime("%Y-%m-%dT%H:%M:%S+08:00") if a.submitted_at else ""]
        for a in applications
    ]
    return {"scores": scores, "indicators": indicators, "applications": apps}


def effective_figures(application: Application) -> dict[str, Decimal | None]:
    """The figures the engine uses: the reported ones, with new associations scaled by the verified rate
    of a completed roster spot check (``webapp.inspection``)."""
    from webapp.inspection.operations import effective_figures as inspected

    return inspected(application)


def _plain(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def fingerprint(inputs: dict[str, Any], rubric_sha256: str, budget: Decimal | None) -> str:
    # Normalise the budget: a value read back from the database carries its scale (1500000.00).
    budget_text = None if budget is None else f"{Decimal(budget):.2f}"
    body = json.dumps({"inputs": inputs, "rubric": rubric_sha256, "budget": budget_text},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- runs


def latest_run(program: Program) -> ResultRun | None:
    return db.session.scalar(select(ResultRun).where(ResultRun.program_id == program.id)
                             .order_by(ResultRun.number.desc()).limit(1))


def is_stale(run: ResultRun) -> bool:
    """True when reviews, figures, the rubric or the budget changed since the run."""
    program = run.program
    return fingerprint(collect_inputs(program), program.rubric_sha256, program.budget) != run.inputs_sha256


def _allocation_overrides(program: Program) -> dict[str, Any]:
    return {"budget": int(program.budget)} if program.budget is not None else {}


def run_results(program: Program, *, bootstrap: int = DEFAULT_BOOTSTRAP, seed: int | None = None,
                actor) -> ResultRun:
    """Run the engine on the current submitted reviews and figures; store inputs and outputs."""
    if Phase(program.phase) not in (Phase.panel, Phase.review):
        raise ResultsError([_("项目当前阶段为“%(phase)s”；评审结果在专家评审和结果会商阶段运行。",
                               phase=_(program.phase_label))])
    if not 0 <= bootstrap <= 5000:
        raise ResultsError([_("自助法重复次数应在 0 到 5000 之间。")])
    rubric = rubric_of(program)
    inputs = collect_inputs(program)
    if not inputs["applications"]:
        raise ResultsError([_("没有通过形式审查的申报，无法运行评审结果。")])
    seed = secrets.randbelow(2**31) if seed is None else seed
    try:
        # The program's budget sets the funding cutoff behind p_funded and the boundary flags, as in awards.
        result = rank_applications(rubric, [tuple(r) for r in inputs["scores"]],
                                   [tuple(r) for r in inputs["indicators"]],
                                   [tuple(r) for r in inputs["applications"]], bootstrap=bootstrap, seed=seed,
                                   **_allocation_overrides(program))
        allocation = allocate(rubric, result, **_allocation_overrides(program))
    except (ScoringInputError, ValueError) as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise ResultsError([_("评分引擎拒绝了输入："), *problems]) from None
    number = (db.session.scalar(select(func.max(ResultRun.number)).where(ResultRun.program_id == program.id)) or 0) + 1
    totals = result.reviewer_totals
    extras = {
        "expert_ids": list(result.expert_ids),
        "reviewer_totals": {
            a.application: {e: (None if totals[i, j] != totals[i, j] else _plain(Decimal(repr(float(totals[i, j])))))
                            for j, e in enumerate(result.expert_ids)}
            for i, a in enumerate(result.applications)
        },
        "cutoff_rank": allocation.cutoff_rank,
        "allocation_flags": list(allocation.flags),
        "tied": list(allocation.tied),
    }
    run = ResultRun(
        program_id=program.id, number=number, created_at=now(), created_by_id=getattr(actor, "id", None),
        rubric_sha256=program.rubric_sha256, bootstrap=bootstrap, seed=seed, budget=program.budget,
        inputs=json.dumps(inputs, ensure_ascii=False, sort_keys=True),
        inputs_sha256=fingerprint(inputs, program.rubric_sha256, program.budget),
        result=dumps_json(result.to_json()), awards=dumps_json(allocation.to_json()),
        extras=json.dumps(extras, ensure_ascii=False, sort_keys=True),
    )
    db.session.add(run)
    db.session.flush()
    log_event("results.run", obj=program, actor=actor, detail={
        "run": number, "bootstrap": bootstrap, "seed": seed, "inputs_sha256": run.inputs_sha256,
        "awards": len(allocation.awards), "total_amount": allocation.total_amount})
    return run


# ---------------------------------------------------------------- decisions


def current_decisions(program: Program) -> dict[int, Decision]:
    rows = db.session.scalars(select(Decision).join(Application).where(
        Application.program_id == program.id, Decision.superseded_at.is_(None))).all()
    return {d.application_id: d for d in rows}


def _pilot_units(program: Program) -> set[int]:
    """Units decided as pilot in the same campaign (a pilot unit is not also post-subsidised by default)."""
    pilot = program.campaign.program(ProgramKind.pilot)
    if pilot is None:
        return set()
    return {d.application.unit_id for d in current_decisions(pilot).values() if d.kind == DecisionKind.pilot}


@dataclass(frozen=True)
class Proposal:
    kind: DecisionKind
    amount: Decimal | None
    note: str


def proposals(program: Program, run: ResultRun) -> dict[int, Proposal]:
    """What the engine's allocation proposes for each application of the run (by application id)."""
    apps = {a.unit.code: a for a in ranked_applications(program)}
    awards = {a["application"]: Decimal(str(a["amount"])) for a in run.awards_data()["awards"]}
    pilot_units = set() if program.campaign.pilot_may_also_get_post_subsidy else _pilot_units(program)
    out = {}
    for code, application in apps.items():
        amount = awards.get(code)
        if amount is None:
            out[application.id] = Proposal(DecisionKind.none, None, _("未进入资助范围"))
            continue
        if ProgramKind(program.kind) == ProgramKind.pilot:
            matching = application.figure_values().get("matching_funds")
            if not matching or matching <= 0:
                out[application.id] = Proposal(DecisionKind.none, None,
                                                  _("未承诺自筹配套资金，不能作为试点示范单位"))
            else:
                out[application.id] = Proposal(DecisionKind.pilot, amount, "")
        elif application.unit_id in pilot_units:
            out[application.id] = Proposal(DecisionKind.none, None,
                                              _("已确定为本年度试点示范单位，不再给予后补助"))
        else:
            out[application.id] = Proposal(DecisionKind.post_subsidy, amount, "")
    return out


def _decisions_editable(program: Program, objection_id: int | None) -> None:
    phase = Phase(program.phase)
    if phase == Phase.panel:
        return
    if phase == Phase.publicity and objection_id is not None:
        return
    if phase == Phase.publicity:
        raise ResultsError([_("公示期间只能根据成立的异议修改决定（并须重新公示变更部分）。")])
    raise ResultsError([_("项目当前阶段为“%(phase)s”，决定不能修改。", phase=_(program.phase_label))])


def adopt_proposals(program: Program, run: ResultRun, *, actor) -> int:
    """Record the proposals of ``run`` as the decisions (replacing earlier ones). Returns how many."""
    _decisions_editable(program, None)
    if run.program_id != program.id:
        raise ResultsError([_("该结果不属于本项目。")])
    current = current_decisions(program)
    at = now()
    count = 0
    for application_id, proposal in proposals(program, run).items():
        old = current.get(application_id)
        if old is not None:
            old.superseded_at = at
        db.session.add(Decision(application_id=application_id, run_id=run.id, kind=proposal.kind,
                                amount=proposal.amount, proposed_kind=proposal.kind,
                                proposed_amount=proposal.amount, reason="", decided_by_id=actor.id, decided_at=at))
        count += 1
    db.session.flush()
    _check_budget(program)
    log_event("results.adopt", obj=program, actor=actor, detail={"run": run.number, "decisions": count})
    return count


def funded_total(program: Program) -> Decimal:
    return sum((d.amount or Decimal(0) for d in current_decisions(program).values() if DecisionKind(d.kind).funded),
               Decimal(0))


def _check_budget(program: Program) -> None:
    if program.budget is not None:
        total = funded_total(program)
        if total > program.budget:
            raise ResultsError([_("资助总额 %(total)s 元超过预算 %(budget)s 元，请调整。",
                                   total=f"{total:,.0f}", budget=f"{program.budget:,.0f}")])


def change_decision(application: Application, *, kind: DecisionKind, amount: Decimal | None, reason: str,
                    objection_id: int | None = None, actor) -> Decision:
    """Office changes one decision; a departure from the proposal needs a written reason; the budget holds."""
    program = application.program
    _decisions_editable(program, objection_id)
    current = current_decisions(program).get(application.id)
    if current is None:
        raise ResultsError([_("请先根据评审结果生成资助建议。")])
    reason = (reason or "").strip()
    kind = DecisionKind(kind)
    problems = []
    if kind.funded:
        if amount is None or amount <= 0:
            problems.append(_("资助类决定须填写金额（元）。"))
        if ProgramKind(program.kind) == ProgramKind.pilot and kind == DecisionKind.post_subsidy:
            problems.append(_("试点示范项目中不能决定后补助，请在后补助项目中办理。"))
        if ProgramKind(program.kind) == ProgramKind.post_subsidy and kind == DecisionKind.pilot:
            problems.append(_("后补助项目中不能决定试点示范，请在试点示范项目中办理。"))
        if kind == DecisionKind.pilot:
            matching = application.figure_values().get("matching_funds")
            if not matching or matching <= 0:
                problems.append(_("该单位未承诺自筹配套资金，不能确定为试点示范单位。"))
    else:
        amount = None
    departs = kind != current.proposed_kind or (amount or 0) != (current.proposed_amount or 0)
    if departs and not reason:
        problems.append(_("与资助建议不同的决定必须写明理由。"))
    if problems:
        raise ResultsError(problems)
    at = now()
    current.superseded_at = at
    decision = Decision(application_id=application.id, run_id=current.run_id, kind=kind, amount=amount,
                        proposed_kind=current.proposed_kind, proposed_amount=current.proposed_amount,
                        reason=reason, decided_by_id=actor.id, decided_at=at, objection_id=objection_id)
    db.session.add(decision)
    db.session.flush()
    _check_budget(program)
    log_event("results.decide", obj=application, actor=actor, detail={
        "from": [current.kind.value, None if current.amount is None else str(current.amount)],
        "to": [kind.value, None if amount is None else str(amount)], "reason": reason,
        "objection": objection_id})
    return decision


def what_if(program: Program, run: ResultRun, *, budget: int | None, count: int | None,
            amounts: dict[str, int]) -> Any:
    """The allocation the engine would propose with other count, budget or amounts (nothing is saved)."""
    rubric = rubric_of(program)
    try:
        return allocate(rubric, loads_json(run.result), budget=budget, count=count, amounts=amounts or None)
    except ValueError as exc:
        raise ResultsError([_("参数无效：%(error)s", error=exc)]) from None
