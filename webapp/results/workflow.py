"""Phase guards contributed by results and decisions."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from webapp.auth.permissions import ALLOW, Decision, deny
from webapp.campaigns.models import Phase, Program
from webapp.campaigns.workflow import guard


@guard(Phase.panel, Phase.publicity)
def _decided_on_current_results(program: Program, at: datetime) -> Decision:
    from webapp.results.operations import current_decisions, is_stale, latest_run, ranked_applications

    run = latest_run(program)
    if run is None:
        return deny(_("尚未运行评审结果。"))
    if is_stale(run):
        return deny(_("评审结果运行后评分或数据又有变化，请重新运行评审结果并确认决定。"))
    decisions = current_decisions(program)
    missing = [a.unit.name for a in ranked_applications(program) if a.id not in decisions]
    if missing:
        return deny(_("还有 %(n)s 个单位没有决定（如 %(unit)s），请先生成资助建议并确认。", n=len(missing),
                      unit=missing[0]))
    if any(d.run_id != run.id for d in decisions.values()):
        return deny(_("决定基于较早的评审结果，请根据最新的第 %(n)s 次结果重新生成资助建议。", n=run.number))
    return ALLOW
