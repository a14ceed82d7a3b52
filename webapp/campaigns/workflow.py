"""The phase workflow as data (§2): the order, who may move a program, and a guard per move.

Later areas register their own guards (``@guard(Phase.review, Phase.panel)``) instead of this module
importing them, so dependencies keep pointing one way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import gettext as _

from webapp.auth.permissions import ALLOW, Decision, deny
from webapp.campaigns.models import PHASE_ORDER, Phase, Program
from webapp.core.i18n import N_
from webapp.core.timeutil import format_beijing

Guard = Callable[[Program, datetime], Decision]


# Moves that happen by themselves when their date arrives (no cron job: applied when a program is loaded).
AUTOMATIC = {Phase.open: Phase.formal_check}

# Moves made by their own operation (which does more than change the phase), never by the generic button:
# target phase → where the office does it.
VIA_OPERATION = {
    Phase.publicity: N_("请在“公示与异议”页面设定公示期并开始公示。"),
    Phase.final: N_("请在“公示与异议”页面定案（公示期满、异议全部办结后）。"),
    Phase.paid: N_("计划财务部登记全部拨付后自动进入“已拨付”。"),
}

_GUARDS: dict[tuple[Phase, Phase], list[Guard]] = defaultdict(list)


def next_phase(phase: Phase) -> Phase | None:
    i = PHASE_ORDER.index(Phase(phase))
    return PHASE_ORDER[i + 1] if i + 1 < len(PHASE_ORDER) else None


def guard(source: Phase, target: Phase) -> Callable[[Guard], Guard]:
    """Register a guard for the move ``source → target``; every guard of a move must allow it."""

    def decorator(func: Guard) -> Guard:
        _GUARDS[(source, target)].append(func)
        return func

    return decorator


def check_move(program: Program, target: Phase, at: datetime) -> Decision:
    """Whether ``program`` may move to ``target`` now: forward by one step, and every guard allows it."""
    current = Phase(program.phase)
    if next_phase(current) != target:
        if target.index <= current.index:
            return deny(_("阶段只能向前推进：当前为“%(current)s”，不能回到“%(target)s”。",
                          current=_(current.label), target=_(target.label)))
        return deny(_("不能跳过阶段：“%(current)s”之后应为“%(next)s”。",
                      current=_(current.label), next=_(next_phase(current).label)))
    for check in _GUARDS[(current, target)]:
        decision = check(program, at)
        if not decision.allowed:
            return decision
    return ALLOW


@guard(Phase.setup, Phase.open)
def _deadline_in_future(program: Program, at: datetime) -> Decision:
    if program.submission_deadline <= at:
        return deny(_(
            "申报截止时间（%(deadline)s 北京时间）已过，请先修改截止时间再开放申报。",
            deadline=format_beijing(program.submission_deadline),
        ))
    return ALLOW


@guard(Phase.setup, Phase.open)
def _rubric_valid(program: Program, at: datetime) -> Decision:
    from webapp.campaigns.rubrics import rubric_of  # local: avoids loading the engine at import time

    try:
        rubric_of(program)
    except ValueError as exc:
        return deny(_("评分细则无效：%(error)s", error=exc))
    return ALLOW


@guard(Phase.open, Phase.formal_check)
def _deadline_passed(program: Program, at: datetime) -> Decision:
    # The deadline is a whole second: 23:59:59.999 is still on time, 00:00:00 is not.
    if at < program.submission_deadline + timedelta(seconds=1):
        return deny(_(
            "申报截止时间为 %(deadline)s（北京时间），截止前不能结束申报；到期后系统自动进入形式审查。",
            deadline=format_beijing(program.submission_deadline),
        ))
    return ALLOW
