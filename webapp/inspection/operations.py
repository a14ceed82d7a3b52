"""Targets (任务分配), roster spot checks (抽查) and the figures they change. Flush and audit; never commit.

The effective number of new enterprise associations used in scoring is the claimed number × the verified
rate of a completed spot check, rounded half up to a whole number (a count). Until the spot check is
complete the claimed number is used.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.applications import operations as application_ops
from webapp.applications.models import Application, ApplicationStatus, Figure, FigureSource
from webapp.audit.operations import log_event
from webapp.auth.models import Role, User
from webapp.campaigns.models import Campaign
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.timeutil import now
from webapp.inspection.models import (
    CheckStatus,
    NationalTarget,
    SpotCheck,
    SpotCheckEntry,
    TargetSource,
    UnitTarget,
)
from webapp.units.models import Unit

TARGET_INDICATORS = {"task_new_kexie": "task_new_kexie", "task_liaison": "task_liaison"}
CLAIMED = "enterprise_kexie_new"


class InspectionError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# ---------------------------------------------------------------- national targets and unit tasks


def national_target(campaign: Campaign) -> NationalTarget | None:
    return db.session.scalar(select(NationalTarget).where(NationalTarget.campaign_id == campaign.id))


def set_national_target(
    campaign: Campaign,
    *,
    new_kexie: int,
    liaison: int,
    park_coverage: Decimal,
    national_park_coverage: Decimal,
    baseline_coverage: Decimal,
    actor,
) -> NationalTarget:
    problems = []
    if new_kexie < 0 or liaison < 0:
        problems.append(_("目标数不能为负数。"))
    for value, name in (
        (park_coverage, _("园区科协覆盖率")),
        (national_park_coverage, _("国家级园区科协覆盖率")),
        (baseline_coverage, _("企业科协覆盖率起点")),
    ):
        if not Decimal(0) <= value <= Decimal(1):
            problems.append(_("%(name)s应在 0%% 到 100%% 之间。", name=name))
    if problems:
        raise InspectionError(problems)
    target = national_target(campaign) or NationalTarget(campaign_id=campaign.id, updated_at=now())
    target.new_kexie, target.liaison = new_kexie, liaison
    target.park_coverage, target.national_park_coverage = park_coverage, national_park_coverage
    target.baseline_coverage = baseline_coverage
    target.updated_by_id, target.updated_at = actor.id, now()
    db.session.add(target)
    db.session.flush()
    log_event(
        "targets.national",
        obj=campaign,
        actor=actor,
        detail={
            "new_kexie": new_kexie,
            "liaison": liaison,
            "park_coverage": str(park_coverage),
            "national_park_coverage": str(national_park_coverage),
            "baseline": str(baseline_coverage),
        },
    )
    return target


def unit_targets(campaign: Campaign) -> dict[int, UnitTarget]:
    return {
        t.unit_id: t
        for t in db.session.scalars(select(UnitTarget).where(UnitTarget.campaign_id == campaign.id))
    }


def _upsert(
    campaign: Campaign,
    unit: Unit,
    *,
    basis,
    task_new: int,
    task_liaison: int,
    source: TargetSource,
    reason: str,
    actor,
) -> UnitTarget:
    target = db.session.scalar(
        select(UnitTarget).where(UnitTarget.campaign_id == campaign.id, UnitTarget.unit_id == unit.id)
    )
    if target is None:
        target = UnitTarget(campaign_id=campaign.id, unit_id=unit.id, updated_at=now())
        db.session.add(target)
    target.basis = basis if basis is not None else target.basis
    target.task_new_kexie, target.task_liaison = task_new, task_liaison
    target.source, target.reason = source, reason
    target.updated_by_id, target.updated_at = actor.id, now()
    return target


def allocate_targets(campaign: Campaign, *, basis: dict[str, int], actor) -> list[UnitTarget]:
    """Allocate the national targets in proportion to each unit's basis (regulated enterprises, a province's
    own excluding its sub-provincial cities), with largest-remainder rounding so the parts sum exactly."""
    from webapp.inspection.allocation import largest_remainder

    national = national_target(campaign)
    if national is None:
        raise InspectionError([_("请先设定全国目标任务。")])
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    unknown = sorted(set(basis) - set(units))
    if unknown:
        raise InspectionError([_("未知单位代码：%(codes)s。", codes=_("、").join(unknown))])
    try:
        new_parts = {s.key: s.allocated for s in largest_remainder(national.new_kexie, basis)}
        liaison_parts = {s.key: s.allocated for s in largest_remainder(national.liaison, basis)}
    except ValueError as exc:
        raise InspectionError([_("无法分配：%(reason)s", reason=exc)]) from None
    targets = [
        _upsert(
            campaign,
            units[code],
            basis=basis[code],
            task_new=new_parts[code],
            task_liaison=liaison_parts[code],
            source=TargetSource.allocated,
            reason="",
            actor=actor,
        )
        for code in sorted(basis)
    ]
    db.session.flush()
    apply_targets(campaign)
    log_event(
        "targets.allocate",
        obj=campaign,
        actor=actor,
        detail={"units": len(targets), "new_kexie": national.new_kexie, "liaison": national.liaison},
    )
    return targets


def import_targets(campaign: Campaign, *, stream: BinaryIO, filename: str, actor) -> int:
    """Import per-unit tasks (or bases, then allocate) from XLSX/CSV; any row error saves nothing."""
    from webapp.inspection.targets_import import parse_targets

    units = {u.code: u for u in db.session.scalars(select(Unit))}
    parsed = parse_targets(stream, filename, known_codes=set(units))
    if not parsed.ok:
        raise InspectionError([_with_row(p.row, p.message) for p in parsed.problems])
    with_tasks = [r for r in parsed.rows if r.task_new_kexie is not None and r.task_liaison is not None]
    if with_tasks and len(with_tasks) != len(parsed.rows):
        raise InspectionError(
            [
                _(
                    "文件中有的行填写了任务数、有的行没有；"
                    "请要么全部填写任务数，要么只填写规模以上工业企业数由系统分配。"
                )
            ]
        )
    if with_tasks:
        for row in parsed.rows:
            _upsert(
                campaign,
                units[row.unit_code],
                basis=row.basis,
                task_new=row.task_new_kexie,
                task_liaison=row.task_liaison,
                source=TargetSource.imported,
                reason="",
                actor=actor,
            )
        db.session.flush()
        apply_targets(campaign)
        log_event(
            "targets.import", obj=campaign, actor=actor, detail={"file": filename, "rows": len(parsed.rows)}
        )
        return len(parsed.rows)
    allocate_targets(campaign, basis={r.unit_code: r.basis for r in parsed.rows}, actor=actor)
    return len(parsed.rows)


def _with_row(row: int | None, message: str) -> str:
    """An import problem with its spreadsheet row in front, unless it has none or already says it."""
    if row is None:
        return message
    prefix = _("第 %(row)s 行：%(message)s", row=row, message="")
    if message.startswith(("第", prefix)):
        return message
    return _("第 %(row)s 行：%(message)s", row=row, message=message)


def adjust_target(target: UnitTarget, *, task_new: int, task_liaison: int, reason: str, actor) -> None:
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(_("调整任务数必须写明理由。"))
    if task_new < 0 or task_liaison < 0:
        problems.append(_("任务数不能为负数。"))
    if problems:
        raise InspectionError(problems)
    before = [target.task_new_kexie, target.task_liaison]
    target.task_new_kexie, target.task_liaison = task_new, task_liaison
    target.source, target.reason = TargetSource.adjusted, reason
    target.updated_by_id, target.updated_at = actor.id, now()
    db.session.flush()
    campaign = db.session.get(Campaign, target.campaign_id)
    apply_targets(campaign)
    log_event(
        "targets.adjust",
        obj=campaign,
        actor=actor,
        detail={
            "unit": target.unit.code,
            "before": before,
            "after": [task_new, task_liaison],
            "reason": reason,
        },
    )


def apply_targets_to(application: Application) -> None:
    """Write the unit's allocated tasks into the application's target figures (locked for the unit)."""
    campaign = application.program.campaign
    target = db.session.scalar(
        select(UnitTarget).where(
            UnitTarget.campaign_id == campaign.id, UnitTarget.unit_id == application.unit_id
        )
    )
    if target is None:
        return
    keys = {i.key for i in rubric_of(application.program).indicators}
    existing = {f.indicator: f for f in application.figures}
    for key, value in (("task_new_kexie", target.task_new_kexie), ("task_liaison", target.task_liaison)):
        if key not in keys:
            continue
        figure = existing.get(key)
        if figure is None:
            db.session.add(
                Figure(
                    application=application,
                    indicator=key,
                    value=Decimal(value),
                    source=FigureSource.office,
                    updated_at=now(),
                )
            )
        else:
            figure.value, figure.source, figure.updated_at = Decimal(value), FigureSource.office, now()
    db.session.flush()


def apply_targets(campaign: Campaign) -> None:
    for program in campaign.programs:
        for application in db.session.scalars(
            select(Application).where(Application.program_id == program.id)
        ):
            apply_targets_to(application)


application_ops.CREATED_HOOKS.append(apply_targets_to)


# ---------------------------------------------------------------- spot checks


def spot_check_of(application: Application) -> SpotCheck | None:
    return db.session.scalar(select(SpotCheck).where(SpotCheck.application_id == application.id))


def create_spot_check(
    application: Application,
    *,
    seed: int | None = None,
    size: int | None = None,
    inspector: User | None = None,
    actor,
) -> SpotCheck:
    """Draw a reproducible sample of the roster (default max(5, 5%)); the seed is recorded and shown."""
    from webapp.inspection.sampling import draw_sample, sample_size

    if ApplicationStatus(application.status) not in (
        ApplicationStatus.submitted,
        ApplicationStatus.passed,
        ApplicationStatus.returned,
    ):
        raise InspectionError([_("只有已提交的申报可以抽查名册。")])
    if not application.roster:
        raise InspectionError([_("%(unit)s没有上传名册，无需抽查。", unit=application.unit.name)])
    if spot_check_of(application) is not None:
        raise InspectionError(
            [_("%(unit)s的名册已抽查过（抽样不能重抽，以免挑选）。", unit=application.unit.name)]
        )
    rows = {e.row_no: e for e in application.roster}
    size = size or sample_size(len(rows))
    if not 1 <= size <= len(rows):
        raise InspectionError([_("抽样数量应在 1 到 %(n)s 之间。", n=len(rows))])
    seed = secrets.randbelow(10**9) if seed is None else seed
    chosen = draw_sample(list(rows), size, seed)
    check = SpotCheck(
        application=application,
        seed=seed,
        roster_size=len(rows),
        sample_size=size,
        created_by_id=actor.id,
        created_at=now(),
    )
    db.session.add(check)
    for row_no in chosen:
        db.session.add(
            SpotCheckEntry(
                spot_check=check, roster_entry_id=rows[row_no].id, row_no=row_no, status=CheckStatus.pending
            )
        )
    db.session.flush()
    if inspector is not None:
        assign_inspector(check, inspector, actor=actor)
    log_event(
        "spotcheck.create", obj=application, actor=actor, detail={"seed": seed, "size": size, "rows": chosen}
    )
    return check


def inspector_conflict(user: User, application: Application) -> str | None:
    if Role(user.role) == Role.expert:
        from webapp.reviews.operations import conflict_reason

        return conflict_reason(user, application)
    return None


def assign_inspector(check: SpotCheck, user: User, *, actor) -> None:
    if Role(user.role) not in (Role.expert, Role.office) or not user.is_enabled:
        raise InspectionError([_("核查人须为启用的评审专家或业务处室账户。")])
    reason = inspector_conflict(user, check.application)
    if reason:
        raise InspectionError(
            [
                _(
                    "%(name)s不能核查%(unit)s：%(reason)s。",
                    name=user.display_name,
                    unit=check.application.unit.name,
                    reason=reason,
                )
            ]
        )
    check.inspector_id = user.id
    db.session.flush()
    log_event("spotcheck.assign", obj=check.application, actor=actor, detail={"inspector": user.username})


def can_inspect(user, check: SpotCheck) -> bool:
    if not user.is_authenticated:
        return False
    if Role(user.role) == Role.office:
        return True
    return check.inspector_id == user.id and inspector_conflict(user, check.application) is None


def record_check(
    entry: SpotCheckEntry, *, status: CheckStatus, note: str, upload: tuple[BinaryIO, str] | None, actor
) -> None:
    """The inspector's finding for one sampled entry, with notes and an optional evidence file."""
    from pathlib import Path

    from webapp.applications.operations import release_upload
    from webapp.applications.uploads import UploadRejected, store_upload

    if not can_inspect(actor, entry.spot_check):
        raise InspectionError([_("您不是该抽查的核查人。")])
    if status == CheckStatus.pending:
        raise InspectionError([_("请选择核查结论。")])
    note = (note or "").strip()
    if status != CheckStatus.verified and not note:
        raise InspectionError([_("核查结论不是“属实”时，请写明核查情况。")])
    replaced = None
    if upload is not None:
        try:
            stored = store_upload(
                upload[0],
                upload[1],
                upload_dir=Path(current_app.config["UPLOAD_DIR"]),
                max_bytes=int(current_app.config["UPLOAD_MAX_FILE_MB"] * 1024 * 1024),
            )
        except UploadRejected as exc:
            raise InspectionError([exc.message]) from None
        if entry.evidence_sha256 and entry.evidence_sha256 != stored.sha256:
            replaced = entry.evidence_sha256
        entry.evidence_name, entry.evidence_sha256, entry.evidence_mime = (
            stored.original_name,
            stored.sha256,
            stored.mime,
        )
    before = CheckStatus(entry.status).value
    entry.status, entry.note = status, note
    entry.recorded_by_id, entry.recorded_at = actor.id, now()
    db.session.flush()
    if replaced is not None:
        release_upload(replaced)  # the earlier evidence goes once this is committed, if nothing else uses it
    log_event(
        "spotcheck.record",
        obj=entry.spot_check.application,
        actor=actor,
        detail={"row": entry.row_no, "from": before, "to": status.value, "note": note},
    )


@dataclass(frozen=True)
class Effective:
    claimed: Decimal | None
    verified_rate: Decimal | None
    effective: Decimal | None  # what the scoring engine uses
    seed: int | None
    complete: bool


def effective_new(application: Application) -> Effective:
    """Claimed new associations × verified rate (rounded half up), once the spot check is complete."""
    claimed = application.figure_values().get(CLAIMED)
    check = spot_check_of(application)
    if check is None:
        return Effective(claimed, None, claimed, None, False)
    rate = check.verified_rate
    if rate is None or claimed is None:
        return Effective(claimed, rate, claimed, check.seed, check.complete)
    value = (claimed * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Effective(claimed, rate, value, check.seed, True)


def effective_figures(application: Application) -> dict[str, Decimal | None]:
    values = application.figure_values()
    if CLAIMED in values:
        values[CLAIMED] = effective_new(application).effective
    return values


@dataclass(frozen=True)
class Candidate:
    application: Application
    reasons: list[str]


def criticism_candidates(campaign: Campaign) -> list[Candidate]:
    """Units the office should consider for 通报批评: low verified rate or low task completion."""
    config = current_app.config
    min_rate = Decimal(str(config["SPOT_CHECK_MIN_RATE"]))
    min_completion = Fraction(str(config["TASK_COMPLETION_MIN"]))
    found = []
    for program in campaign.programs:
        for application in db.session.scalars(
            select(Application).where(
                Application.program_id == program.id,
                Application.status.in_([ApplicationStatus.submitted, ApplicationStatus.passed]),
            )
        ):
            reasons = []
            eff = effective_new(application)
            if eff.verified_rate is not None and eff.verified_rate < min_rate:
                reasons.append(
                    _(
                        "名册核实率 %(rate)s，低于 %(minimum)s",
                        rate=f"{eff.verified_rate:.0%}",
                        minimum=f"{min_rate:.0%}",
                    )
                )
            values = application.figure_values()
            task = values.get("task_new_kexie")
            if (
                task
                and eff.effective is not None
                and Fraction(eff.effective) / Fraction(task) < min_completion
            ):
                rate = float(Fraction(eff.effective) / Fraction(task))
                reasons.append(
                    _(
                        "新建企业科协任务完成率 %(rate)s，低于 %(minimum)s",
                        rate=f"{rate:.0%}",
                        minimum=f"{float(min_completion):.0%}",
                    )
                )
            if reasons:
                found.append(Candidate(application, reasons))
    return sorted(found, key=lambda c: c.application.unit.sort_key)
