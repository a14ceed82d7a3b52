"""Applicant units with their GB/T 2260 codes and, for sub-provincial cities, the parent province."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import db, enum_column
from webapp.core.i18n import N_


class UnitCategory(enum.StrEnum):
    province = "province"  # 省级科协 (provinces, autonomous regions, municipalities)
    corps = "corps"  # 新疆生产建设兵团科协
    city = "city"  # 副省级城市科协

    @property
    def label(self) -> str:
        return {"province": N_("省级"), "corps": N_("兵团"), "city": N_("副省级城市")}[self.value]

    @property
    def order(self) -> int:
        # GB/T 9704 attachment order: provinces, then 兵团, then cities.
        return {"province": 0, "corps": 1, "city": 2}[self.value]


class Unit(db.Model):
    """A science association that can apply: identified by its GB/T 2260 administrative division code."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("length(code) = 6", name="code_len"),
        CheckConstraint("(category = 'city') = (parent_code IS NOT NULL)", name="city_has_parent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    region: Mapped[str] = mapped_column(String(40), nullable=False)
    category: Mapped[UnitCategory] = mapped_column(enum_column(UnitCategory, "unit_category"), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        String(6), ForeignKey("units.code", ondelete="RESTRICT"), nullable=True
    )

    parent: Mapped[Unit | None] = relationship(remote_side=[code])

    @property
    def sort_key(self) -> tuple[int, str]:
        return (UnitCategory(self.category).order, self.code)

    @property
    def province_code(self) -> str:
        """The provincial-level region this unit belongs to (itself, or a city's parent)."""
        return self.parent_code or self.code

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"
