"""Campaign and program models."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import UTCDateTime, db, enum_column
from webapp.core.i18n import N_


class ProgramKind(enum.StrEnum):
    pilot = "pilot"
    post_subsidy = "post_subsidy"

    @property
    def label(self) -> str:
        return {"pilot": N_("试点示范"), "post_subsidy": N_("后补助")}[self.value]


class Phase(enum.StrEnum):
    setup = "setup"
    open = "open"
    formal_check = "formal_check"
    review = "review"
    panel = "panel"
    publicity = "publicity"
    final = "final"
    paid = "paid"

    @property
    def label(self) -> str:
        return PHASE_LABELS[self]

    @property
    def index(self) -> int:
        return PHASE_ORDER.index(self)


PHASE_ORDER = list(Phase)
PHASE_LABELS = {
    Phase.setup: N_("筹备"),
    Phase.open: N_("申报中"),
    Phase.formal_check: N_("形式审查"),
    Phase.review: N_("专家评审"),
    Phase.panel: N_("结果会商"),
    Phase.publicity: N_("公示"),
    Phase.final: N_("定案"),
    Phase.paid: N_("已拨付"),
}


class Campaign(db.Model):
    """One year's campaign; it holds one or two programs."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # Whether an expert from 新疆 conflicts with 兵团 and the reverse (§4: a campaign setting).
    corps_conflicts_with_xinjiang: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Whether a unit chosen as pilot may also be post-subsidised in the same year (§5).
    pilot_may_also_get_post_subsidy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    programs: Mapped[list[Program]] = relationship(
        back_populates="campaign", order_by="Program.kind", cascade="all, delete-orphan"
    )

    def program(self, kind: ProgramKind) -> Program | None:
        return next((p for p in self.programs if ProgramKind(p.kind) == kind), None)


class Program(db.Model):
    """A program of a campaign: its rubric (a snapshot of the TOML text), dates, money and phase.

    Move the phase only with ``webapp.campaigns.operations.advance_phase``.
    """

    __tablename__ = "programs"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_nonneg"),
        CheckConstraint("length(rubric_sha256) = 64", name="rubric_sha_len"),
        CheckConstraint(
            "publicity_end IS NULL OR publicity_start IS NULL OR publicity_end >= publicity_start",
            name="publicity_order",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[ProgramKind] = mapped_column(enum_column(ProgramKind, "program_kind"), nullable=False)
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, "program_phase"), nullable=False, default=Phase.setup)
    rubric_file: Mapped[str] = mapped_column(String(120), nullable=False)
    rubric_id: Mapped[str] = mapped_column(String(120), nullable=False)
    rubric_toml: Mapped[str] = mapped_column(Text, nullable=False)
    rubric_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    submission_deadline: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    publicity_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    publicity_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    phase_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    campaign: Mapped[Campaign] = relationship(back_populates="programs")

    @property
    def title(self) -> str:
        return f"{self.campaign.year}年度{ProgramKind(self.kind).label}"

    @property
    def phase_label(self) -> str:
        return Phase(self.phase).label
