"""Campaign and program operations: change, flush, audit; never commit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.models import AuditResult
from webapp.audit.operations import log_event
from webapp.campaigns.models import Campaign, Phase, Program, ProgramKind
from webapp.campaigns.rubrics import read_rubric_file
from webapp.campaigns.workflow import AUTOMATIC, check_move
from webapp.core.db import db
from webapp.core.timeutil import format_beijing, now


class CampaignError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def create_campaign(
    *,
    year: int,
    title: str,
    corps_conflicts_with_xinjiang: bool = True,
    pilot_may_also_get_post_subsidy: bool = False,
) -> Campaign:
    """Create a campaign year (no programs yet)."""
    if db.session.scalar(select(Campaign).where(Campaign.year == year)) is not None:
        raise CampaignError([_("%(year)s 年度的评审活动已存在，每年只能有一个。", year=year)])
    campaign = Campaign(
        year=year,
        title=title.strip(),
        corps_conflicts_with_xinjiang=corps_conflicts_with_xinjiang,
        pilot_may_also_get_post_subsidy=pilot_may_also_get_post_subsidy,
        created_at=now(),
    )
    db.session.add(campaign)
    db.session.flush()
    log_event("campaign.create", obj=campaign, detail={"year": year, "title": campaign.title})
    return campaign


def add_program(
    campaign: Campaign,
    *,
    kind: ProgramKind,
    rubric_file: str,
    submission_deadline: datetime,
    budget: Decimal | None = None,
) -> Program:
    """Add a program to a campaign with a snapshot of its rubric file."""
    if campaign.program(kind) is not None:
        raise CampaignError([_("本年度已设置%(kind)s项目。", kind=_(kind.label))])
    rubric = _checked_rubric(rubric_file, kind)
    program = Program(
        campaign=campaign,
        kind=kind,
        phase=Phase.setup,
        rubric_file=rubric.name,
        rubric_id=rubric.rubric_id,
        rubric_toml=rubric.text,
        rubric_sha256=rubric.sha256,
        submission_deadline=submission_deadline,
        budget=budget,
        phase_changed_at=now(),
    )
    db.session.add(program)
    db.session.flush()
    log_event(
        "program.create",
        obj=program,
        detail={
            "campaign": campaign.year,
            "kind": kind.value,
            "rubric": rubric.name,
            "rubric_sha256": rubric.sha256,
            "deadline": format_beijing(submission_deadline),
            "budget": None if budget is None else str(budget),
        },
    )
    return program


def _checked_rubric(rubric_file: str, kind: ProgramKind):
    try:
        rubric = read_rubric_file(rubric_file)
    except FileNotFoundError:
        raise CampaignError([_("找不到评分细则文件 %(file)s。", file=rubric_file)]) from None
    except ValueError as exc:
        raise CampaignError([_("评分细则 %(file)s 无效：%(error)s", file=rubric_file, error=exc)]) from None
    if rubric.program != kind.value:
        raise CampaignError([_("评分细则 %(file)s 用于“%(program)s”，与项目类型“%(kind)s”不符。", file=rubric_file,
                               program=rubric.program, kind=_(kind.label))])
    return rubric


def update_program(
    program: Program, *, rubric_file: str, submission_deadline: datetime, budget: Decimal | None
) -> None:
    """Change a program's rubric, deadline or budget; only while it is being set up."""
    if Phase(program.phase) != Phase.setup:
        raise CampaignError([_("项目已进入“%(phase)s”阶段，设置已锁定。", phase=_(program.phase_label))])
    before = {
        "rubric": program.rubric_file,
        "deadline": format_beijing(program.submission_deadline),
        "budget": None if program.budget is None else str(program.budget),
    }
    if rubric_file != program.rubric_file:
        rubric = _checked_rubric(rubric_file, ProgramKind(program.kind))
        program.rubric_file = rubric.name
        program.rubric_id = rubric.rubric_id
        program.rubric_toml = rubric.text
        program.rubric_sha256 = rubric.sha256
    program.submission_deadline = submission_deadline
    program.budget = budget
    db.session.flush()
    after = {
        "rubric": program.rubric_file,
        "deadline": format_beijing(program.submission_deadline),
        "budget": None if program.budget is None else str(program.budget),
    }
    log_event("program.update", obj=program, detail={"before": before, "after": after})


def advance_phase(program: Program, target: Phase, *, reason: str = "", actor=None) -> None:
    """Move a program one phase forward if every guard allows it; a refusal is audited and raised."""
    current = Phase(program.phase)
    at = now()
    decision = check_move(program, target, at)
    if not decision.allowed:
        # The guards give their reason in the interface language; the audit log keeps it in Chinese.
        recorded = decision.reason
        chinese = current_app.config["BABEL_DEFAULT_LOCALE"]
        if str(get_locale() or chinese) != chinese:
            with force_locale(chinese):
                recorded = check_move(program, target, at).reason or decision.reason
        log_event(
            "program.phase",
            obj=program,
            actor=actor,
            result=AuditResult.denied,
            detail={"from": current.value, "to": target.value, "reason": recorded},
        )
        raise CampaignError([decision.reason])
    program.phase = target
    program.phase_changed_at = now()
    db.session.flush()
    log_event(
        "program.phase",
        obj=program,
        actor=actor,
        detail={"from": current.value, "to": target.value, "note": reason},
    )


def apply_due_transitions(program: Program) -> bool:
    """Apply date-driven moves whose time has come (open → formal_check at the deadline).

    Called whenever a program is loaded, so no scheduler is needed; the audit entry records the
    deadline as the effective time. Returns whether anything changed.
    """
    changed = False
    while Phase(program.phase) in AUTOMATIC:
        target = AUTOMATIC[Phase(program.phase)]
        if not check_move(program, target, now()).allowed:
            break
        source = Phase(program.phase)
        program.phase = target
        program.phase_changed_at = now()
        db.session.flush()
        log_event(
            "program.phase",
            obj=program,
            actor="系统",
            detail={
                "from": source.value,
                "to": target.value,
                "note": "申报截止，自动进入形式审查",
                "effective_at": format_beijing(program.submission_deadline),
            },
        )
        changed = True
    return changed
