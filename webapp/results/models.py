"""Results runs and decisions."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scoring.io import loads_json
from webapp.applications.models import Application
from webapp.auth.models import User
from webapp.campaigns.models import Program
from webapp.core.db import UTCDateTime, db, enum_column


class ResultRun(db.Model):
    """评审结果: the exact inputs given to the scoring engine and what it answered, frozen.

    Pages show a run, never a recomputation, so numbers cannot change under anyone's feet; a new run is a
    new row. ``inputs`` holds scores, indicators and applications rows exactly as passed to the engine.
    """

    __tablename__ = "result_runs"
    __table_args__ = (
        CheckConstraint("length(inputs_sha256) = 64", name="inputs_sha_len"),
        CheckConstraint("bootstrap >= 0", name="bootstrap_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, ... within the program
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    rubric_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    bootstrap: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    inputs: Mapped[str] = mapped_column(Text, nullable=False)
    inputs_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[str] = mapped_column(Text, nullable=False)  # result.json
    awards: Mapped[str] = mapped_column(Text, nullable=False)  # awards.json (proposal under the budget)
    extras: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # reviewer totals, tie-break notes

    program: Mapped[Program] = relationship()
    created_by: Mapped[User | None] = relationship()

    def result_data(self) -> dict[str, Any]:
        """result.json with exact decimals (so 20.00 stays 20.00 at the rubric's precision)."""
        return loads_json(self.result)

    def awards_data(self) -> dict[str, Any]:
        return loads_json(self.awards)

    def inputs_data(self) -> dict[str, Any]:
        return json.loads(self.inputs)

    def extras_data(self) -> dict[str, Any]:
        return json.loads(self.extras)


class DecisionKind(enum.StrEnum):
    pilot = "pilot"  # 试点示范
    post_subsidy = "post_subsidy"  # 后补助
    commendation = "commendation"  # 通报表扬（不含资金）
    none = "none"  # 不支持
    criticism = "criticism"  # 通报批评（不合格）

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]

    @property
    def funded(self) -> bool:
        return self in (DecisionKind.pilot, DecisionKind.post_subsidy)


DECISION_LABELS = {
    DecisionKind.pilot: "试点示范",
    DecisionKind.post_subsidy: "后补助",
    DecisionKind.commendation: "通报表扬",
    DecisionKind.none: "不予支持",
    DecisionKind.criticism: "通报批评",
}


class Decision(db.Model):
    """A decision on one application. Never changed in place: a change supersedes the current row, so
    the history is kept. ``reason`` is required whenever the decision departs from the proposal."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_nonneg"),
        CheckConstraint(
            "(kind IN ('pilot', 'post_subsidy')) = (amount IS NOT NULL AND amount > 0)", name="funded_has_amount"
        ),
        CheckConstraint(
            "(kind = proposed_kind AND coalesce(amount, 0) = coalesce(proposed_amount, 0)) OR length(reason) > 0",
            name="override_has_reason",
        ),
        Index("ix_decisions_current", "application_id", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    run_id: Mapped[int] = mapped_column(ForeignKey("result_runs.id", ondelete="RESTRICT"), nullable=False)
    kind: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind, "decision_kind"), nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    proposed_kind: Mapped[DecisionKind] = mapped_column(
        enum_column(DecisionKind, "proposed_decision_kind"), nullable=False
    )
    proposed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    objection_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # an upheld objection behind it

    application: Mapped[Application] = relationship()
    run: Mapped[ResultRun] = relationship()
    decided_by: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return DecisionKind(self.kind).label

    @property
    def overridden(self) -> bool:
        return self.kind != self.proposed_kind or (self.amount or 0) != (self.proposed_amount or 0)
