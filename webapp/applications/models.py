"""Applications and what hangs off them: figures, attachments, roster entries, receipts, formal checks."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.campaigns.models import Program
from webapp.core.db import UTCDateTime, db, enum_column
from webapp.units.models import Unit


class ApplicationStatus(enum.StrEnum):
    draft = "draft"  # 填报中 (also after a withdrawal)
    submitted = "submitted"  # 已提交
    returned = "returned"  # 退回补正
    passed = "passed"  # 形式审查通过
    rejected = "rejected"  # 形式审查不通过

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ApplicationStatus.draft: "填报中",
    ApplicationStatus.submitted: "已提交",
    ApplicationStatus.returned: "退回补正",
    ApplicationStatus.passed: "形式审查通过",
    ApplicationStatus.rejected: "形式审查不通过",
}


class Application(db.Model):
    """One unit's application to one program. Change it only through ``webapp.applications.operations``."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("program_id", "unit_id"),
        CheckConstraint("status <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint("status <> 'returned' OR correction_until IS NOT NULL", name="returned_has_window"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=False)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "application_status"), nullable=False, default=ApplicationStatus.draft
    )
    recommendation: Mapped[str | None] = mapped_column(Text, nullable=True)  # 推荐意见
    nominated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), nullable=True
    )  # pilot: 邀请申报
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    correction_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # 收款信息 for finance (needed only if the unit is funded; editable until paid, audited).
    payee_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    bank_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    bank_account: Mapped[str | None] = mapped_column(String(40), nullable=True)

    program: Mapped[Program] = relationship()
    unit: Mapped[Unit] = relationship()
    nominated_by: Mapped[User | None] = relationship()
    figures: Mapped[list[Figure]] = relationship(back_populates="application", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    roster: Mapped[list[RosterEntry]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="RosterEntry.row_no"
    )
    receipts: Mapped[list[Receipt]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Receipt.id"
    )
    checks: Mapped[list[FormalCheck]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="FormalCheck.id"
    )

    @property
    def status_label(self) -> str:
        return ApplicationStatus(self.status).label

    def figure_values(self) -> dict[str, Decimal | None]:
        return {f.indicator: f.value for f in self.figures}

    def attachments_for(self, purpose: AttachmentPurpose, criterion: str | None = None) -> list[Attachment]:
        return [
            a
            for a in self.attachments
            if a.purpose == purpose and (criterion is None or a.criterion == criterion)
        ]

    @property
    def current_receipt(self) -> Receipt | None:
        live = [r for r in self.receipts if r.withdrawn_at is None]
        return live[-1] if live else None


class FigureSource(enum.StrEnum):
    unit = "unit"  # reported by the applicant
    office = "office"  # set by CAST (e.g. allocated targets); the unit cannot change it


class Figure(db.Model):
    """One reported figure (indicator value). Missing is no row or NULL, never a sentinel."""

    __tablename__ = "figures"
    __table_args__ = (
        UniqueConstraint("application_id", "indicator"),
        CheckConstraint("value IS NULL OR value >= 0", name="value_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    indicator: Mapped[str] = mapped_column(String(60), nullable=False)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    source: Mapped[FigureSource] = mapped_column(
        enum_column(FigureSource, "figure_source"), nullable=False, default=FigureSource.unit
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    application: Mapped[Application] = relationship(back_populates="figures")


class AttachmentPurpose(enum.StrEnum):
    evidence = "evidence"  # 佐证材料 for one criterion
    roster = "roster"  # 新建企业科协名册 (XLSX)
    recommendation_letter = "recommendation_letter"  # 盖章推荐函

    @property
    def label(self) -> str:
        return {"evidence": "佐证材料", "roster": "新建企业科协名册", "recommendation_letter": "盖章推荐函"}[
            self.value
        ]


class Attachment(db.Model):
    """An uploaded file of an application. The bytes live outside the web root under their SHA-256."""

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("application_id", "purpose", "criterion", "sha256"),
        CheckConstraint("size > 0", name="size_pos"),
        CheckConstraint("length(sha256) = 64", name="sha_len"),
        CheckConstraint("(purpose = 'evidence') = (criterion IS NOT NULL)", name="evidence_has_criterion"),
        Index("ix_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[AttachmentPurpose] = mapped_column(
        enum_column(AttachmentPurpose, "attachment_purpose"), nullable=False
    )
    criterion: Mapped[str | None] = mapped_column(String(60), nullable=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    mime: Mapped[str] = mapped_column(String(120), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    application: Mapped[Application] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class RosterEntry(db.Model):
    """One enterprise association founded this year, as imported from the unit's roster file."""

    __tablename__ = "roster_entries"
    __table_args__ = (
        UniqueConstraint("application_id", "row_no"),
        CheckConstraint("members IS NULL OR members >= 0", name="members_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    row_no: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    enterprise: Mapped[str | None] = mapped_column(String(200), nullable=True)
    founded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    approval_no: Mapped[str | None] = mapped_column(String(120), nullable=True)
    members: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chair: Mapped[str | None] = mapped_column(String(80), nullable=True)
    duplicate_group: Mapped[int | None] = mapped_column(Integer, nullable=True)  # same name as other rows

    application: Mapped[Application] = relationship(back_populates="roster")


class Receipt(db.Model):
    """回执: issued at each submission; kept (marked withdrawn) when the leader withdraws."""

    __tablename__ = "receipts"
    __table_args__ = (CheckConstraint("length(manifest_sha256) = 64", name="manifest_sha_len"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    manifest: Mapped[str] = mapped_column(
        Text, nullable=False
    )  # canonical JSON: figures and every file's SHA-256
    manifest_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    application: Mapped[Application] = relationship(back_populates="receipts")
    submitted_by: Mapped[User] = relationship()


class CheckDecision(enum.StrEnum):
    passed = "passed"
    returned = "returned"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return {"passed": "通过", "returned": "退回补正", "rejected": "不通过"}[self.value]


class FormalCheck(db.Model):
    """One formal-check decision by the office (all kept: a returned application is checked again)."""

    __tablename__ = "formal_checks"
    __table_args__ = (
        CheckConstraint("decision = 'passed' OR length(note) > 0", name="note_required"),
        CheckConstraint(
            "(decision = 'returned') = (correction_until IS NOT NULL)", name="window_iff_returned"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    decision: Mapped[CheckDecision] = mapped_column(
        enum_column(CheckDecision, "check_decision"), nullable=False
    )
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    correction_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    application: Mapped[Application] = relationship(back_populates="checks")
    decided_by: Mapped[User] = relationship()
