"""Who may do what to an application, and when: predicates answering (allowed, reason).

The deadline is enforced here, in Beijing time: 23:59:59 on the deadline day is accepted, 00:00:00 the
next day is refused (the deadline is a whole second).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from webapp.applications.models import Application, ApplicationStatus
from webapp.auth.models import ApplicantRole, Role
from webapp.auth.permissions import ALLOW, Decision, deny
from webapp.campaigns.models import Phase, Program
from webapp.core.timeutil import format_beijing


def before_deadline(program: Program, at: datetime) -> bool:
    return at.replace(microsecond=0) <= program.submission_deadline


def accepting(program: Program, at: datetime) -> Decision:
    """Whether the program takes submissions and edits now."""
    if Phase(program.phase) == Phase.setup:
        return deny(_("该项目尚未开放申报。"))
    if Phase(program.phase) != Phase.open or not before_deadline(program, at):
        return deny(
            _(
                "申报已于 %(when)s（北京时间）截止，材料只读，不能再修改或提交。",
                when=format_beijing(program.submission_deadline),
            )
        )
    return ALLOW


def is_member(user, application: Application) -> bool:
    return (
        user.is_authenticated
        and Role(user.role) == Role.applicant
        and user.unit_id is not None
        and user.unit_id == application.unit_id
    )


def is_leader(user, application: Application) -> bool:
    return is_member(user, application) and ApplicantRole(user.applicant_role) == ApplicantRole.leader


def can_view(user, application: Application) -> bool:
    """Units see their own applications only; the office sees all. (Experts: see the review area.)"""
    if not user.is_authenticated:
        return False
    return is_member(user, application) or Role(user.role) == Role.office


def in_correction_window(application: Application, at: datetime) -> bool:
    return (
        ApplicationStatus(application.status) == ApplicationStatus.returned
        and application.correction_until is not None
        and at <= application.correction_until
    )


def can_edit(user, application: Application, at: datetime) -> Decision:
    """Change figures, roster and files: the unit's own draft before the deadline."""
    if not is_member(user, application):
        return deny(_("只有本单位的填报员和负责人可以填报。"))
    status = ApplicationStatus(application.status)
    if status == ApplicationStatus.returned:
        return deny(_("退回补正期间只能补充缺少的材料，不能修改已填报的数据。"))
    open_now = accepting(application.program, at)
    if status != ApplicationStatus.draft:
        if not open_now.allowed:
            return deny(
                _("申报状态为“%(status)s”，申报已截止，材料只读。", status=_(application.status_label))
            )
        return deny(
            _("申报状态为“%(status)s”，如需修改，请负责人先撤回（截止前）。", status=_(application.status_label))
        )
    return open_now


def can_add_material(user, application: Application, at: datetime) -> Decision:
    """Upload a file: as ``can_edit``, or during a correction window (补正: adding only)."""
    if in_correction_window(application, at) and is_member(user, application):
        return ALLOW
    if ApplicationStatus(application.status) == ApplicationStatus.returned and is_member(user, application):
        return deny(
            _("补正期限已于 %(when)s（北京时间）结束。", when=format_beijing(application.correction_until))
        )
    return can_edit(user, application, at)


def can_submit(user, application: Application, at: datetime) -> Decision:
    if not is_leader(user, application):
        return deny(_("只有本单位负责人可以填写推荐意见并提交申报。"))
    status = ApplicationStatus(application.status)
    if status == ApplicationStatus.returned:
        if in_correction_window(application, at):
            return ALLOW
        return deny(
            _("补正期限已于 %(when)s（北京时间）结束。", when=format_beijing(application.correction_until))
        )
    if status != ApplicationStatus.draft:
        return deny(_("申报当前状态为“%(status)s”，不能再次提交。", status=_(application.status_label)))
    return accepting(application.program, at)


def can_withdraw(user, application: Application, at: datetime) -> Decision:
    if not is_leader(user, application):
        return deny(_("只有本单位负责人可以撤回申报。"))
    if ApplicationStatus(application.status) != ApplicationStatus.submitted:
        return deny(_("只有已提交的申报可以撤回。"))
    return accepting(application.program, at)


def can_check(user, application: Application) -> Decision:
    """Formal check (形式审查) by the office after the deadline."""
    if not user.is_authenticated or Role(user.role) != Role.office:
        return deny(_("形式审查由业务处室办理。"))
    if Phase(application.program.phase) != Phase.formal_check:
        return deny(
            _("项目当前阶段为“%(phase)s”，不在形式审查阶段。", phase=_(application.program.phase_label))
        )
    if ApplicationStatus(application.status) != ApplicationStatus.submitted:
        return deny(_("申报当前状态为“%(status)s”，没有待审查的提交。", status=_(application.status_label)))
    return ALLOW
