"""Publicity rounds, objections and the register (entries are versions, never edited in place)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.applications.models import Application
from webapp.campaigns.models import Program
from webapp.core.db import UTCDateTime, db, enum_column


class PublicityRound(db.Model):
    """One publicity period of a program; a later round republishes what changed after an objection."""

    __tablename__ = "publicity_rounds"
    __table_args__ = (
        UniqueConstraint("program_id", "number"),
        CheckConstraint("end_date >= start_date", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    working_days: Mapped[int] = mapped_column(Integer, nullable=False)
    end_confirmed_by_hand: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # application ids republished (JSON)
    contact: Mapped[str] = mapped_column(Text, nullable=False)  # how to object: office, phone, address
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    program: Mapped[Program] = relationship()


class Conclusion(enum.StrEnum):
    pending = "pending"
    upheld = "upheld"
    not_upheld = "not_upheld"

    @property
    def label(self) -> str:
        return {"pending": "调查中", "upheld": "异议成立", "not_upheld": "异议不成立"}[self.value]


class Objection(db.Model):
    """A real-name objection lodged during a publicity period (public form, no login)."""

    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint("length(name) > 0 AND length(phone) > 0 AND length(content) > 0", name="real_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    round_id: Mapped[int] = mapped_column(ForeignKey("publicity_rounds.id", ondelete="RESTRICT"), nullable=False)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    organisation: Mapped[str] = mapped_column(String(120), nullable=False)
    phone: Mapped[str] = mapped_column(String(40), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    attachment_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attachment_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attachment_mime: Mapped[str | None] = mapped_column(String(120), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)

    round: Mapped[PublicityRound] = relationship()
    application: Mapped[Application | None] = relationship()
    entries: Mapped[list[RegisterEntry]] = relationship(back_populates="objection", order_by="RegisterEntry.version")

    @property
    def current(self) -> RegisterEntry | None:
        return self.entries[-1] if self.entries else None

    @property
    def conclusion(self) -> Conclusion:
        return Conclusion(self.current.conclusion) if self.current else Conclusion.pending


class RegisterEntry(db.Model):
    """A version of the office's register entry for an objection (all versions kept)."""

    __tablename__ = "register_entries"
    __table_args__ = (
        UniqueConstraint("objection_id", "version"),
        CheckConstraint("conclusion = 'pending' OR (length(reply) > 0 AND concluded_on IS NOT NULL)",
                        name="concluded_has_reply"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="RESTRICT"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    investigation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    conclusion: Mapped[Conclusion] = mapped_column(enum_column(Conclusion, "objection_conclusion"), nullable=False)
    reply: Mapped[str] = mapped_column(Text, nullable=False, default="")
    concluded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    replied_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    objection: Mapped[Objection] = relationship(back_populates="entries")
