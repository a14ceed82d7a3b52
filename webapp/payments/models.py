"""Payment records, one per funded decision."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import UTCDateTime, db
from webapp.results.models import Decision


class Payment(db.Model):
    """拨付记录: the date money left and the accounting voucher (凭证号) for one final funded decision."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_pos"),
                      CheckConstraint("length(voucher_no) > 0", name="voucher_required"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="RESTRICT"), unique=True,
                                             nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    voucher_no: Mapped[str] = mapped_column(String(60), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    decision: Mapped[Decision] = relationship()
