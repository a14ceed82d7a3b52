"""Applicant-portal operations: they take model objects and clean values, flush, audit, never commit.

Uploaded bytes are written to the upload folder before the row that refers to them; if anything after that
fails, the operation removes the file again unless another row already refers to the same content.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from time import time as wall_time
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from webapp.applications import rules
from webapp.applications.figures import FigureProblems, parse_figures
from webapp.applications.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentPurpose,
    CheckDecision,
    Figure,
    FigureSource,
    FormalCheck,
    Receipt,
    RosterEntry,
)
from webapp.applications.roster import RosterParse, parse_roster
from webapp.applications.uploads import (
    StoredFile,
    UploadRejected,
    join_sentences,
    open_stored,
    remove_if_unreferenced,
    store_upload,
)
from webapp.audit.models import AuditResult
from webapp.audit.operations import log_event
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.i18n import N_
from webapp.core.timeutil import beijing, beijing_datetime, beijing_today, format_beijing, now
from webapp.core.workdays import nth_working_day
from webapp.units.models import Unit

MB = 1024 * 1024
MIN_RECOMMENDATION = 20


class ApplicationError(ValueError):
    """A refused action; ``problems`` are messages for the user, in the interface language."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _require(decision) -> None:
    if not decision.allowed:
        raise ApplicationError([decision.reason])


def _touch(application: Application) -> None:
    application.updated_at = now()


def find_application(program: Program, unit: Unit) -> Application | None:
    return db.session.scalar(
        select(Application).where(Application.program_id == program.id, Application.unit_id == unit.id)
    )


def start_application(program: Program, unit: Unit, *, actor) -> Application:
    """A unit starts its post-subsidy application (pilot applications come from office nomination)."""
    if ProgramKind(program.kind) != ProgramKind.post_subsidy:
        raise ApplicationError([_("试点示范项目由中国科协邀请申报，不能自行创建申报。")])
    _require(rules.accepting(program, now()))
    existing = find_application(program, unit)
    if existing is not None:
        return existing
    return _create(program, unit, actor=actor, nominated_by=None)


def nominate(program: Program, unit: Unit, *, actor) -> Application:
    """Office invites a unit to apply for the pilot program (邀请申报)."""
    if ProgramKind(program.kind) != ProgramKind.pilot:
        raise ApplicationError([_("只有试点示范项目采用邀请申报。")])
    if Phase(program.phase) not in (Phase.setup, Phase.open):
        raise ApplicationError(
            [_("项目已进入“%(phase)s”阶段，不能再邀请申报。", phase=_(program.phase_label))]
        )
    if find_application(program, unit) is not None:
        raise ApplicationError([_("%(unit)s已在邀请名单中。", unit=unit.name)])
    return _create(program, unit, actor=actor, nominated_by=actor)


# Other areas fill things in when an application is created (e.g. allocated targets); they register here
# instead of this module importing them, so dependencies keep pointing one way.
CREATED_HOOKS: list = []


def _create(program: Program, unit: Unit, *, actor, nominated_by) -> Application:
    current = now()
    application = Application(
        program=program,
        unit=unit,
        status=ApplicationStatus.draft,
        created_at=current,
        updated_at=current,
        nominated_by=nominated_by,
    )
    db.session.add(application)
    db.session.flush()
    log_event(
        "application.nominate" if nominated_by else "application.create",
        obj=application,
        actor=actor,
        detail={"program": program.id, "unit": unit.code},
    )
    for hook in CREATED_HOOKS:
        hook(application)
    return application


# ---------------------------------------------------------------- figures


def save_figures(application: Application, raw: dict[str, str | None], *, actor) -> FigureProblems:
    """Save the typed figures; refuses (nothing saved) when any is invalid. Returns warnings to show."""
    _require(rules.can_edit(actor, application, now()))
    rubric = rubric_of(application.program)
    values, problems = parse_figures(rubric, raw)
    if problems.errors:
        raise ApplicationError([m for messages in problems.errors.values() for m in messages])
    existing = {f.indicator: f for f in application.figures}
    changed = {}
    current = now()
    for key, value in values.items():
        figure = existing.get(key)
        if figure is not None and FigureSource(figure.source) == FigureSource.office:
            continue  # set by CAST (allocated targets): the unit cannot change it
        if figure is None:
            figure = Figure(
                application=application,
                indicator=key,
                value=value,
                source=FigureSource.unit,
                updated_at=current,
            )
            db.session.add(figure)
            if value is not None:
                changed[key] = [None, str(value)]
        elif figure.value != value:
            changed[key] = [
                None if figure.value is None else str(figure.value),
                None if value is None else str(value),
            ]
            figure.value = value
            figure.updated_at = current
    _touch(application)
    db.session.flush()
    if changed:
        log_event("application.figures", obj=application, actor=actor, detail={"changed": changed})
    return problems


# ---------------------------------------------------------------- files


def _limits() -> tuple[int, int]:
    config = current_app.config
    return int(config["UPLOAD_MAX_FILE_MB"] * MB), int(config["UPLOAD_MAX_APPLICATION_MB"] * MB)


def _mb(size: int) -> str:
    return f"{size / MB:g}"


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _referenced(sha256: str) -> bool:
    """Whether anything still refers to a stored file: the places :func:`referenced_upload_hashes` reads
    (a receipt's manifest by its text, which lists the hash)."""
    from webapp.inspection.models import SpotCheckEntry
    from webapp.publicity.models import Objection

    sha = sha256.lower()
    for column in (Attachment.sha256, SpotCheckEntry.evidence_sha256, Objection.attachment_sha256):
        if db.session.scalar(select(column).where(column == sha).limit(1)) is not None:
            return True
    return db.session.scalar(select(Receipt.id).where(Receipt.manifest.contains(sha)).limit(1)) is not None


_PENDING_REMOVALS = "upload_removals"


def release_upload(sha256: str) -> None:
    """Remove a stored file once the change that dropped its last reference is committed (never if it
    rolls back).

    The reference check runs now, inside the transaction; the file goes only if it was not stored again
    since (storing existing content renews its modification time), so that a concurrent upload of the
    same content keeps it. What is left behind in a race is an orphan for ``flask uploads prune``."""
    if _referenced(sha256):
        return
    pending = db.session.info.setdefault(_PENDING_REMOVALS, [])
    pending.append((_upload_dir(), sha256, wall_time()))


@event.listens_for(Session, "after_commit")
def _remove_pending_uploads(session: Session) -> None:
    for upload_dir, sha256, checked_at in session.info.pop(_PENDING_REMOVALS, ()):
        try:
            if open_stored(upload_dir, sha256).stat().st_mtime > checked_at:
                continue  # stored again after the check: someone else's row may refer to it now
        except FileNotFoundError:
            continue
        remove_if_unreferenced(upload_dir, sha256, still_referenced=False)


@event.listens_for(Session, "after_rollback")
def _forget_pending_uploads(session: Session) -> None:
    session.info.pop(_PENDING_REMOVALS, None)


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX64_IN_TEXT = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")


def _hashes_in(value, found: set[str]) -> None:
    """Every 64-hex string anywhere in a parsed JSON value (file hashes and a few others: harmless)."""
    if isinstance(value, str):
        if _HEX64.fullmatch(value):
            found.add(value.lower())
    elif isinstance(value, dict):
        for item in value.values():
            _hashes_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _hashes_in(item, found)


def referenced_upload_hashes() -> set[str]:
    """The SHA-256 (lower case) of every stored upload something still refers to.

    Attachments, spot-check evidence, objection attachments, and every file a receipt's manifest lists (a
    receipt certifies its files even after an attachment is gone). A table that holds a stored file's hash
    and is missing here would have its files pruned, hence the explicit list; a manifest that does not
    parse is searched as text.
    """
    from webapp.inspection.models import SpotCheckEntry
    from webapp.publicity.models import Objection

    found: set[str] = set()
    for column in (Attachment.sha256, SpotCheckEntry.evidence_sha256, Objection.attachment_sha256):
        rows = db.session.scalars(select(column).where(column.is_not(None)).distinct())
        found.update(sha.lower() for sha in rows)
    for manifest in db.session.scalars(select(Receipt.manifest)):
        try:
            _hashes_in(json.loads(manifest), found)
        except (TypeError, ValueError):
            found.update(sha.lower() for sha in _HEX64_IN_TEXT.findall(manifest or ""))
    return found


def _store(
    application: Application,
    stream: BinaryIO,
    filename: str,
    *,
    expect_kind: str | None = None,
    allowed: set[str] | None = None,
) -> StoredFile:
    per_file, per_application = _limits()
    used = sum(a.size for a in application.attachments)
    remaining = per_application - used
    if remaining <= 0:
        raise ApplicationError(
            [_("本申报的材料已达 %(limit)s MB 上限，请删除不需要的文件后再上传。", limit=per_application // MB)]
        )
    limit = min(per_file, remaining)
    kwargs = {"upload_dir": _upload_dir(), "max_bytes": limit, "expect_kind": expect_kind}
    if allowed is not None:
        kwargs["allowed"] = allowed
    try:
        stored = store_upload(stream, filename, **kwargs)
    except UploadRejected as exc:
        message = exc.message
        if limit < per_file and exc.too_large:
            message = join_sentences(
                message,
                _(
                    "（本申报剩余可用空间 %(remaining)s MB，总上限 %(total)s MB。）",
                    remaining=f"{remaining / MB:.2f}",
                    total=_mb(per_application),
                ),
            )
        raise ApplicationError([message]) from None
    return stored


def _discard(stored: StoredFile) -> None:
    """Undo a store whose row was not written (keep it if another row refers to the same content)."""
    if not stored.already_stored:
        remove_if_unreferenced(_upload_dir(), stored.sha256, still_referenced=_referenced(stored.sha256))


def add_evidence(
    application: Application, *, criterion: str, title: str, stream: BinaryIO, filename: str, actor
) -> Attachment:
    """Upload one evidence file for an expert-scored criterion."""
    _require(rules.can_add_material(actor, application, now()))
    rubric = rubric_of(application.program)
    keys = {c.key: c for c in rubric.expert_criteria}
    if criterion not in keys:
        raise ApplicationError([_("请选择材料对应的评分项目。")])
    title = (title or "").strip()
    if not title:
        raise ApplicationError([_("请填写材料标题，例如“2014年企业科协工作总结”。")])
    stored = _store(application, stream, filename)
    try:
        for other in application.attachments_for(AttachmentPurpose.evidence):
            if other.sha256 == stored.sha256 and other.criterion == criterion:
                raise ApplicationError(
                    [
                        _(
                            "同一文件已作为“%(criterion)s”的材料上传过（标题：%(title)s），无需重复上传。",
                            criterion=keys[criterion].title,
                            title=other.title,
                        )
                    ]
                )
        attachment = _attachment(application, AttachmentPurpose.evidence, criterion, title, stored, actor)
    except BaseException:
        _discard(stored)
        raise
    return attachment


def _attachment(application, purpose, criterion, title, stored: StoredFile, actor) -> Attachment:
    attachment = Attachment(
        application=application,
        purpose=purpose,
        criterion=criterion,
        title=title[:200],
        original_name=stored.original_name[:200],
        sha256=stored.sha256,
        size=stored.size,
        kind=stored.kind,
        mime=stored.mime,
        uploaded_by_id=getattr(actor, "id", None),
        uploaded_at=now(),
    )
    db.session.add(attachment)
    _touch(application)
    db.session.flush()
    log_event(
        "application.upload",
        obj=application,
        actor=actor,
        detail={
            "purpose": purpose.value,
            "criterion": criterion,
            "title": title,
            "name": stored.original_name,
            "sha256": stored.sha256,
            "size": stored.size,
        },
    )
    return attachment


def delete_attachment(attachment: Attachment, *, actor) -> None:
    """Remove a file before submission (not during a correction window: material may only be added)."""
    application = attachment.application
    _require(rules.can_edit(actor, application, now()))
    sha256 = attachment.sha256
    detail = {"purpose": attachment.purpose.value, "title": attachment.title, "sha256": sha256}
    if AttachmentPurpose(attachment.purpose) == AttachmentPurpose.roster:
        for entry in list(application.roster):
            db.session.delete(entry)
    application.attachments.remove(attachment)
    db.session.delete(attachment)
    _touch(application)
    db.session.flush()
    release_upload(sha256)
    log_event("application.delete_file", obj=application, actor=actor, detail=detail)


# ---------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterOutcome:
    parse: RosterParse
    count: int
    reported: Decimal | None

    @property
    def mismatch(self) -> bool:
        return self.reported is not None and Decimal(self.count) != self.reported


class RosterImportError(ApplicationError):
    def __init__(self, parse: RosterParse | None, problems: list[str]):
        super().__init__(problems)
        self.parse = parse


def roster_count_check(application: Application) -> tuple[int, Decimal | None]:
    """(rows in the roster, reported number of new enterprise associations)."""
    reported = application.figure_values().get("enterprise_kexie_new")
    return len(application.roster), reported


def import_roster(application: Application, *, stream: BinaryIO, filename: str, actor) -> RosterOutcome:
    """Replace the roster with an uploaded XLSX; any row error refuses the whole file (nothing saved)."""
    _require(rules.can_add_material(actor, application, now()))
    if rules.in_correction_window(application, now()) and application.roster:
        raise ApplicationError([_("补正期间只能补充缺少的材料：名册已上传，不能替换。")])
    stored = _store(application, stream, filename, expect_kind="xlsx", allowed={"xlsx"})
    try:
        parse = parse_roster(stored.path, year=application.program.campaign.year, today=beijing_today())
        if not parse.ok:
            problems = [p.message for p in parse.problems]
            log_event(
                "application.roster",
                obj=application,
                actor=actor,
                result=AuditResult.failed,
                detail={"name": stored.original_name, "problems": len(problems)},
            )
            raise RosterImportError(parse, problems)
        for entry in list(application.roster):
            db.session.delete(entry)
        for old in application.attachments_for(AttachmentPurpose.roster):
            application.attachments.remove(old)
            db.session.delete(old)
        db.session.flush()
        groups = {row: n for n, group in enumerate(parse.duplicates, start=1) for row in group}
        for row in parse.rows:
            db.session.add(
                RosterEntry(
                    application=application,
                    row_no=row.row,
                    name=row.name[:200],
                    enterprise=row.enterprise,
                    founded_on=row.founded_on,
                    approval_no=row.approval_no,
                    members=row.members,
                    chair=row.chair,
                    duplicate_group=groups.get(row.row),
                )
            )
        _attachment(application, AttachmentPurpose.roster, None, "新建企业科协名册", stored, actor)
    except BaseException:
        _discard(stored)
        raise
    count, reported = len(parse.rows), application.figure_values().get("enterprise_kexie_new")
    log_event(
        "application.roster",
        obj=application,
        actor=actor,
        detail={
            "rows": count,
            "duplicates": [list(g) for g in parse.duplicates],
            "reported": None if reported is None else str(reported),
        },
    )
    return RosterOutcome(parse, count, reported)


# ---------------------------------------------------------------- recommendation and submission


def save_recommendation(application: Application, *, text: str, actor) -> None:
    """The leader's recommendation (推荐意见)."""
    _require(rules.can_submit(actor, application, now()))
    application.recommendation = text.strip() or None
    _touch(application)
    db.session.flush()
    log_event(
        "application.recommendation",
        obj=application,
        actor=actor,
        detail={"length": len(application.recommendation or "")},
    )


def add_recommendation_letter(
    application: Application, *, stream: BinaryIO, filename: str, actor
) -> Attachment:
    """The signed and sealed recommendation letter (PDF or image); replaces an earlier one."""
    _require(rules.can_submit(actor, application, now()))
    stored = _store(application, stream, filename, allowed={"pdf", "jpg", "png"})
    try:
        old = application.attachments_for(AttachmentPurpose.recommendation_letter)
        if rules.in_correction_window(application, now()) and old:
            raise ApplicationError([_("补正期间只能补充缺少的材料：盖章推荐函已上传，不能替换。")])
        for attachment in old:
            application.attachments.remove(attachment)
            db.session.delete(attachment)
        db.session.flush()
        attachment = _attachment(
            application, AttachmentPurpose.recommendation_letter, None, "盖章推荐函", stored, actor
        )
    except BaseException:
        _discard(stored)
        raise
    return attachment


def _missing(application: Application) -> list[tuple[str, dict[str, object]]]:
    """Every part still missing, as (Chinese message, its values): see :func:`missing_parts`."""
    rubric = rubric_of(application.program)
    values = application.figure_values()
    missing: list[tuple[str, dict[str, object]]] = [
        (N_("数据“%(title)s”未填写"), {"title": i.title}) for i in rubric.indicators if values.get(i.key) is None
    ]
    for criterion in rubric.expert_criteria:
        if not application.attachments_for(AttachmentPurpose.evidence, criterion.key):
            missing.append((N_("“%(title)s”的佐证材料未上传"), {"title": criterion.title}))
    new = values.get("enterprise_kexie_new")
    if new is not None and new > 0 and not application.roster:
        missing.append((N_("新建企业科协名册未上传"), {}))
    if len((application.recommendation or "").strip()) < MIN_RECOMMENDATION:
        missing.append((N_("负责人推荐意见未填写（至少 %(n)s 字）"), {"n": MIN_RECOMMENDATION}))
    if not application.attachments_for(AttachmentPurpose.recommendation_letter):
        missing.append((N_("盖章推荐函未上传"), {}))
    return missing


def missing_parts(application: Application, *, translate: bool = True) -> list[str]:
    """Every part still missing before the application can be submitted, in the interface language
    (``translate=False``: in Chinese, as the audit log keeps it)."""
    if translate:
        return [_(message, **values) for message, values in _missing(application)]
    return [message % values if values else message for message, values in _missing(application)]


def manifest_of(application: Application, at: datetime) -> dict:
    """What a receipt certifies: the figures, the recommendation and every file, by SHA-256."""
    return {
        "application": application.id,
        "unit": {"code": application.unit.code, "name": application.unit.name},
        "program": {
            "year": application.program.campaign.year,
            "kind": application.program.kind.value,
            "rubric": application.program.rubric_id,
            "rubric_sha256": application.program.rubric_sha256,
        },
        "submitted_at": format_beijing(at) + " 北京时间",
        "figures": {
            f.indicator: None if f.value is None else str(f.value)
            for f in sorted(application.figures, key=lambda f: f.indicator)
        },
        "recommendation_sha256": hashlib.sha256(
            (application.recommendation or "").encode("utf-8")
        ).hexdigest(),
        "roster_rows": len(application.roster),
        "files": [
            {
                "purpose": a.purpose.value,
                "criterion": a.criterion,
                "title": a.title,
                "name": a.original_name,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in application.attachments
        ],
    }


def submit(application: Application, *, actor) -> Receipt:
    """The leader submits (or resubmits after a correction); issues a receipt (回执)."""
    at = now()
    _require(rules.can_submit(actor, application, at))
    missing = missing_parts(application, translate=False)
    if missing:
        log_event(
            "application.submit",
            obj=application,
            actor=actor,
            result=AuditResult.denied,
            detail={"missing": missing},
        )
        shown = _("；").join(missing_parts(application))
        raise ApplicationError([_("申报材料不完整，不能提交：%(missing)s。", missing=shown)])
    previous = ApplicationStatus(application.status)
    application.status = ApplicationStatus.submitted
    application.submitted_at = at
    application.correction_until = None
    manifest = manifest_of(application, at)
    body = json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    sequence = len(application.receipts) + 1
    program = application.program
    code = "SD" if ProgramKind(program.kind) == ProgramKind.pilot else "HB"
    receipt = Receipt(
        number=f"{program.campaign.year}{code}-{application.unit.code}-{sequence:02d}",
        application=application,
        submitted_at=at,
        submitted_by_id=actor.id,
        manifest=body,
        manifest_sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
    )
    db.session.add(receipt)
    _touch(application)
    db.session.flush()
    log_event(
        "application.submit",
        obj=application,
        actor=actor,
        detail={
            "receipt": receipt.number,
            "manifest_sha256": receipt.manifest_sha256,
            "from": previous.value,
        },
    )
    return receipt


def withdraw(application: Application, *, actor) -> None:
    """Before the deadline the leader may withdraw, edit and submit again; the receipt is kept, marked."""
    at = now()
    _require(rules.can_withdraw(actor, application, at))
    receipt = application.current_receipt
    if receipt is not None:
        receipt.withdrawn_at = at
    application.status = ApplicationStatus.draft
    application.submitted_at = None
    _touch(application)
    db.session.flush()
    log_event(
        "application.withdraw",
        obj=application,
        actor=actor,
        detail={"receipt": receipt.number if receipt else None},
    )


# ---------------------------------------------------------------- formal check


def correction_deadline(start: datetime, working_days: int) -> tuple[datetime, bool]:
    """End (23:59:59 Beijing time) of the ``working_days``-th working day after ``start``'s day.

    Returns the instant and whether the calendar knew every year involved.
    """
    from datetime import timedelta

    first = beijing(start).date() + timedelta(days=1)
    span = nth_working_day(first, working_days)
    return beijing_datetime(span.end, time(23, 59, 59)), span.known


def formal_check(
    application: Application, *, decision: CheckDecision, note: str, working_days: int = 3, actor
) -> FormalCheck:
    """Pass, return for correction (退回补正, a short window to add missing material), or reject."""
    _require(rules.can_check(actor, application))
    note = (note or "").strip()
    if decision != CheckDecision.passed and not note:
        if decision == CheckDecision.returned:
            raise ApplicationError([_("请写明需补正的材料，单位将看到这段说明。")])
        raise ApplicationError([_("请写明不通过的理由，单位将看到这段说明。")])
    until = None
    if decision == CheckDecision.returned:
        if not 1 <= working_days <= 10:
            raise ApplicationError([_("补正期限应为 1 至 10 个工作日。")])
        until, _known = correction_deadline(now(), working_days)
    check = FormalCheck(
        application=application,
        decision=decision,
        note=note,
        correction_until=until,
        decided_by_id=actor.id,
        decided_at=now(),
    )
    db.session.add(check)
    application.status = {
        CheckDecision.passed: ApplicationStatus.passed,
        CheckDecision.returned: ApplicationStatus.returned,
        CheckDecision.rejected: ApplicationStatus.rejected,
    }[decision]
    application.correction_until = until
    _touch(application)
    db.session.flush()
    log_event(
        "application.formal_check",
        obj=application,
        actor=actor,
        detail={
            "decision": decision.value,
            "note": note,
            "correction_until": format_beijing(until) if until else None,
        },
    )
    return check


def reject_expired_correction(application: Application, *, actor) -> FormalCheck:
    """After a correction window ends without a resubmission, the office closes it as rejected."""
    if not (
        ApplicationStatus(application.status) == ApplicationStatus.returned
        and application.correction_until is not None
        and now() > application.correction_until
    ):
        raise ApplicationError([_("只有补正期限已过仍未重新提交的申报可以据此不予通过。")])
    check = FormalCheck(
        application=application,
        decision=CheckDecision.rejected,
        note="补正期限内未补充材料并重新提交。",
        decided_by_id=actor.id,
        decided_at=now(),
    )
    db.session.add(check)
    application.status = ApplicationStatus.rejected
    application.correction_until = None
    db.session.flush()
    log_event(
        "application.formal_check",
        obj=application,
        actor=actor,
        detail={"decision": "rejected", "note": check.note},
    )
    return check


# ---------------------------------------------------------------- payee


def save_payee(application: Application, *, payee_name: str, bank_name: str, bank_account: str, actor) -> None:
    """收款信息 (payee, bank, account): the unit may keep it current until the program is paid."""
    if not rules.is_member(actor, application):
        raise ApplicationError([_("只有本单位的填报员和负责人可以填写收款信息。")])
    if Phase(application.program.phase) == Phase.paid:
        raise ApplicationError([_("资助已拨付，收款信息不能再修改。")])
    payee_name, bank_name = (payee_name or "").strip(), (bank_name or "").strip()
    account = "".join((bank_account or "").split()).replace("-", "")
    problems = []
    if not payee_name:
        problems.append(_("请填写收款单位全称（与银行开户名一致）。"))
    if not bank_name:
        problems.append(_("请填写开户银行（具体到支行）。"))
    if not account.isdigit() or not 8 <= len(account) <= 32:
        problems.append(_("银行账号应为 8 至 32 位数字（可含空格或短横线分隔），请核对。"))
    if problems:
        raise ApplicationError(problems)
    before = [application.payee_name, application.bank_name, application.bank_account]
    application.payee_name, application.bank_name, application.bank_account = payee_name[:120], bank_name[:120], account
    _touch(application)
    db.session.flush()
    log_event("application.payee", obj=application, actor=actor, detail={
        "before": before, "after": [application.payee_name, application.bank_name, application.bank_account]})
