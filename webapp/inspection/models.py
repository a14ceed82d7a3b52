"""National targets, per-unit building tasks, and roster spot checks."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.applications.models import Application, RosterEntry
from webapp.auth.models import User
from webapp.campaigns.models import Campaign
from webapp.core.db import UTCDateTime, db, enum_column
from webapp.units.models import Unit


class NationalTarget(db.Model):
    """The year's national targets (2014: 6,000 new associations, 15,000 liaison enterprises, park coverage
    25% and 40% for national-level parks, against a 6.1% starting coverage)."""

    __tablename__ = "national_targets"
    __table_args__ = (
        CheckConstraint("new_kexie >= 0 AND liaison >= 0", name="counts_nonneg"),
        CheckConstraint(
            "park_coverage BETWEEN 0 AND 1 AND national_park_coverage BETWEEN 0 AND 1 "
            "AND baseline_coverage BETWEEN 0 AND 1",
            name="ratios_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    new_kexie: Mapped[int] = mapped_column(Integer, nullable=False)
    liaison: Mapped[int] = mapped_column(Integer, nullable=False)
    park_coverage: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False)
    national_park_coverage: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False)
    baseline_coverage: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    campaign: Mapped[Campaign] = relationship()


class TargetSource(enum.StrEnum):
    allocated = "allocated"  # by the system, in proportion to the basis (largest remainder)
    imported = "imported"  # from the office's file
    adjusted = "adjusted"  # changed by hand with a reason

    @property
    def label(self) -> str:
        return {"allocated": "按比例分配", "imported": "导入", "adjusted": "调整"}[self.value]


class UnitTarget(db.Model):
    """A unit's building tasks for the year (任务分配); they fill the rubric's target figures."""

    __tablename__ = "unit_targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_id"),
        CheckConstraint("task_new_kexie >= 0 AND task_liaison >= 0", name="tasks_nonneg"),
        CheckConstraint("basis IS NULL OR basis >= 0", name="basis_nonneg"),
        CheckConstraint("source <> 'adjusted' OR length(reason) > 0", name="adjusted_has_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=False)
    basis: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True
    )  # regulated enterprises (own, no cities)
    task_new_kexie: Mapped[int] = mapped_column(Integer, nullable=False)
    task_liaison: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[TargetSource] = mapped_column(enum_column(TargetSource, "target_source"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    unit: Mapped[Unit] = relationship()


class SpotCheck(db.Model):
    """抽查: a reproducible random sample of one application's roster, checked by an inspector."""

    __tablename__ = "spot_checks"
    __table_args__ = (CheckConstraint("sample_size > 0", name="size_pos"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    roster_size: Mapped[int] = mapped_column(Integer, nullable=False)
    sample_size: Mapped[int] = mapped_column(Integer, nullable=False)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    application: Mapped[Application] = relationship()
    inspector: Mapped[User | None] = relationship(foreign_keys=[inspector_id])
    entries: Mapped[list[SpotCheckEntry]] = relationship(
        back_populates="spot_check", cascade="all, delete-orphan", order_by="SpotCheckEntry.row_no"
    )

    @property
    def complete(self) -> bool:
        return bool(self.entries) and all(CheckStatus(e.status) != CheckStatus.pending for e in self.entries)

    @property
    def verified_rate(self) -> Decimal | None:
        """Share of the sample found to be real, active associations; None until every entry is checked."""
        if not self.complete:
            return None
        verified = sum(1 for e in self.entries if CheckStatus(e.status) == CheckStatus.verified)
        return Decimal(verified) / Decimal(len(self.entries))


class CheckStatus(enum.StrEnum):
    pending = "pending"
    verified = "verified"  # 属实
    not_found = "not_found"  # 查无此会
    dormant = "dormant"  # 名存实亡（seed 003）
    duplicate = "duplicate"  # 重复填报

    @property
    def label(self) -> str:
        return {
            "pending": "待核查",
            "verified": "属实",
            "not_found": "查无此会",
            "dormant": "名存实亡",
            "duplicate": "重复填报",
        }[self.value]


class SpotCheckEntry(db.Model):
    """One sampled roster entry and what the inspector found."""

    __tablename__ = "spot_check_entries"
    __table_args__ = (UniqueConstraint("spot_check_id", "roster_entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(
        ForeignKey("spot_checks.id", ondelete="CASCADE"), nullable=False
    )
    roster_entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"), nullable=False
    )
    row_no: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[CheckStatus] = mapped_column(
        enum_column(CheckStatus, "check_status"), nullable=False, default=CheckStatus.pending
    )
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    evidence_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence_mime: Mapped[str | None] = mapped_column(String(120), nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    spot_check: Mapped[SpotCheck] = relationship(back_populates="entries")
    roster_entry: Mapped[RosterEntry] = relationship()
