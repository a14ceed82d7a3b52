"""Notice drafts: the office edits the text before the DOCX is generated."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import UTCDateTime, db, enum_column


class NoticeKind(enum.StrEnum):
    commendation = "commendation"  # 通报表扬
    criticism = "criticism"  # 通报批评

    @property
    def label(self) -> str:
        return {"commendation": "通报表扬", "criticism": "通报批评"}[self.value]


class NoticeDraft(db.Model):
    """The text of a campaign's commendation or criticism notice, as the office last saved it."""

    __tablename__ = "notice_drafts"
    __table_args__ = (UniqueConstraint("campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind, "notice_kind"), nullable=False)
    doc_number: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    addressees: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # paragraphs separated by blank lines
    signature: Mapped[str] = mapped_column(String(120), nullable=False)
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
