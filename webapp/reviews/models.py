"""Assignments (one expert × one application), their scores, exclusion requests and in-app messages."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.applications.models import Application
from webapp.auth.models import User
from webapp.core.db import UTCDateTime, db, enum_column


class AssignmentStatus(enum.StrEnum):
    assigned = "assigned"  # to score (draft scores may exist)
    submitted = "submitted"  # scored and locked
    declined = "declined"  # the expert declared a conflict; the assignment has ended
    removed = "removed"  # taken off by the office (kept for the record)

    @property
    def label(self) -> str:
        return {"assigned": "待评", "submitted": "已提交", "declined": "已回避", "removed": "已撤销"}[self.value]


ACTIVE = (AssignmentStatus.assigned, AssignmentStatus.submitted)


class Assignment(db.Model):
    """One expert reviewing one application. The review (opinion, status) lives here; scores are rows of
    ``Score``. Change it only through ``webapp.reviews.operations``."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("application_id", "expert_id"),
        CheckConstraint("status <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint("status <> 'declined' OR length(declined_reason) > 0", name="declined_has_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, "assignment_status"), nullable=False, default=AssignmentStatus.assigned
    )
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)  # 评审意见
    declined_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    application: Mapped[Application] = relationship()
    expert: Mapped[User] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="assignment", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}  # two tabs or a double submit: the second write fails

    @property
    def status_label(self) -> str:
        return AssignmentStatus(self.status).label

    def score_map(self) -> dict[str, Decimal | None]:
        return {s.criterion: s.score for s in self.scores}


class Score(db.Model):
    """One criterion's score in one review: exactly one row per (assignment, criterion)."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("assignment_id", "criterion"),
        CheckConstraint("score IS NULL OR score >= 0", name="score_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), nullable=False)
    criterion: Mapped[str] = mapped_column(String(60), nullable=False)
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)

    assignment: Mapped[Assignment] = relationship(back_populates="scores")


class ExclusionStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"

    @property
    def label(self) -> str:
        return {"pending": "待处理", "accepted": "已同意", "declined": "未同意"}[self.value]


class ExclusionRequest(db.Model):
    """A unit asks that a named expert not review its application; the office accepts or declines."""

    __tablename__ = "exclusion_requests"
    __table_args__ = (
        CheckConstraint("length(reason) > 0", name="reason_required"),
        CheckConstraint("status <> 'accepted' OR expert_id IS NOT NULL", name="accepted_names_expert"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    expert_name: Mapped[str] = mapped_column(String(80), nullable=False)  # as the unit wrote it
    expert_affiliation: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[ExclusionStatus] = mapped_column(
        enum_column(ExclusionStatus, "exclusion_status"), nullable=False, default=ExclusionStatus.pending
    )
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # matched by the office
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    application: Mapped[Application] = relationship()
    expert: Mapped[User | None] = relationship(foreign_keys=[expert_id])


class Message(db.Model):
    """An in-app message (the office's reminders to experts, notes to units)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sender: Mapped[User | None] = relationship(foreign_keys=[sender_id])
