"""User accounts and the login throttle."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import UTCDateTime, db, enum_column
from webapp.core.i18n import N_
from webapp.units.models import Unit


class Role(enum.StrEnum):
    applicant = "applicant"
    expert = "expert"
    office = "office"
    finance = "finance"
    auditor = "auditor"
    sysadmin = "sysadmin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.applicant: N_("申报单位"),
    Role.expert: N_("评审专家"),
    Role.office: N_("业务处室"),
    Role.finance: N_("计划财务部"),
    Role.auditor: N_("审计管理员"),
    Role.sysadmin: N_("系统管理员"),
}


class ApplicantRole(enum.StrEnum):
    clerk = "clerk"  # 填报员
    leader = "leader"  # 负责人

    @property
    def label(self) -> str:
        return {"clerk": N_("填报员"), "leader": N_("负责人")}[self.value]


class User(UserMixin, db.Model):
    """An account with exactly one role, so no account can be both sysadmin and auditor (§7).

    Create, disable and reset accounts through ``webapp.auth.operations``; never set ``password_hash`` directly.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'applicant') = (unit_id IS NOT NULL AND applicant_role IS NOT NULL)",
            name="applicant_has_unit",
        ),
        CheckConstraint("role <> 'expert' OR home_region_id IS NOT NULL", name="expert_has_region"),
        CheckConstraint("length(username) >= 3", name="username_len"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), nullable=False)
    applicant_role: Mapped[ApplicantRole | None] = mapped_column(
        enum_column(ApplicantRole, "applicant_role"), nullable=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=True)
    home_region_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), nullable=True
    )
    affiliation: Mapped[str | None] = mapped_column(String(120), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(String(120), nullable=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    home_region: Mapped[Unit | None] = relationship(foreign_keys=[home_region_id])

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot sign in or stay signed in
        return bool(self.is_enabled)

    @property
    def role_label(self) -> str:
        label = Role(self.role).label
        if self.applicant_role:
            label += f"（{ApplicantRole(self.applicant_role).label}）"
        return label

    def has_role(self, *roles: Role) -> bool:
        return Role(self.role) in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginThrottle(db.Model):
    """Failed-login counter per *name typed*, whether or not such an account exists, so the lockout
    message reveals nothing about which accounts exist."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_nonneg"),)

    username: Mapped[str] = mapped_column(String(60), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
