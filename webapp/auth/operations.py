"""Account operations: they change models, flush and audit, and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.audit.models import AuditResult
from webapp.audit.operations import log_event
from webapp.auth.models import ApplicantRole, LoginThrottle, Role, User
from webapp.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from webapp.core.db import db
from webapp.core.timeutil import now
from webapp.units.models import Unit


class AccountError(ValueError):
    """A refused account change; ``problems`` are messages for the user, in the interface language."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_user_by_name(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == normalise_username(username)))


def create_user(
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    unit: Unit | None = None,
    applicant_role: ApplicantRole | None = None,
    home_region: Unit | None = None,
    affiliation: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    must_change_password: bool = True,
    password_hash: str | None = None,
    actor=None,
) -> User:
    """Create an account after checking the role's requirements and the password rule.

    ``password_hash`` may carry an argon2 hash the caller already made of ``password`` (bulk creation of
    accounts that share an initial password, such as the demo: argon2 is deliberately slow); the rule is
    still checked on ``password``.
    """
    username = normalise_username(username)
    problems = []
    if len(username) < 3 or not all(c.isalnum() or c in "._-" for c in username):
        problems.append(_("用户名需为至少 3 个字符，只能包含字母、数字和 . _ -。"))
    elif get_user_by_name(username) is not None:
        problems.append(_("用户名“%(username)s”已被使用，请换一个。", username=username))
    if role == Role.applicant and (unit is None or applicant_role is None):
        problems.append(_("申报单位账户必须选择所属单位和岗位（填报员或负责人）。"))
    if role != Role.applicant and (unit is not None or applicant_role is not None):
        problems.append(_("只有申报单位账户可以关联申报单位。"))
    if role == Role.expert and home_region is None:
        problems.append(_("评审专家账户必须填写所在地区（用于回避）。"))
    problems += password_problems(password, username)
    if problems:
        raise AccountError(problems)
    user = User(
        username=username,
        display_name=display_name.strip(),
        password_hash=password_hash or hash_password(password),
        role=role,
        unit=unit,
        applicant_role=applicant_role,
        home_region=home_region if role == Role.expert else None,
        affiliation=affiliation or None,
        phone=phone or None,
        email=email or None,
        is_enabled=True,
        must_change_password=must_change_password,
        created_at=now(),
    )
    db.session.add(user)
    db.session.flush()
    log_event(
        "user.create",
        obj=user,
        actor=actor,
        detail={"username": username, "role": role.value, "unit": unit.code if unit else None},
    )
    return user


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    locked: bool = False


def _throttle(username: str) -> LoginThrottle:
    throttle = db.session.get(LoginThrottle, username)
    if throttle is None:
        throttle = LoginThrottle(username=username, failures=0)
        db.session.add(throttle)
    return throttle


def authenticate(username: str, password: str) -> LoginOutcome:
    """Check a login attempt; count failures per typed name and lock it after too many.

    Returns the user on success. A locked name is refused even with the right password, and the
    same happens for names that match no account, so the outcome never reveals whether one exists.
    """
    name = normalise_username(username)[:60]
    config = current_app.config
    throttle = _throttle(name)
    current = now()
    if throttle.locked_until is not None and throttle.locked_until > current:
        log_event("auth.login", result=AuditResult.denied, actor=name, detail={"reason": "locked"})
        return LoginOutcome(None, locked=True)
    if throttle.locked_until is not None:  # the lock has expired: start counting afresh
        throttle.locked_until = None
        throttle.failures = 0
    user = get_user_by_name(name)
    if user is not None and user.is_enabled and verify_password(user.password_hash, password):
        throttle.failures = 0
        user.last_login_at = current
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        db.session.flush()
        log_event("auth.login", obj=user, actor=user)
        return LoginOutcome(user)
    throttle.failures += 1
    locked = throttle.failures >= config["LOGIN_MAX_FAILURES"]
    if locked:
        throttle.locked_until = current + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    db.session.flush()
    reason = "disabled" if user is not None and not user.is_enabled else "bad_credentials"
    log_event(
        "auth.login",
        result=AuditResult.failed,
        actor=name,
        detail={"reason": reason, "failures": throttle.failures, "locked": locked},
    )
    return LoginOutcome(None, locked=locked)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """The user's own change (also the forced change at first login)."""
    problems = []
    if not verify_password(user.password_hash, current_password):
        problems.append(_("当前密码不正确。"))
    problems += password_problems(new_password, user.username)
    if current_password == new_password:
        problems.append(_("新密码不能与当前密码相同。"))
    if problems:
        log_event("user.password_change", obj=user, result=AuditResult.failed)
        raise AccountError(problems)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = now()
    db.session.flush()
    log_event("user.password_change", obj=user)


def reset_password(user: User, *, new_password: str, actor=None) -> None:
    """Sysadmin reset: a temporary password that must be changed at the next login; clears any lock."""
    problems = password_problems(new_password, user.username)
    if problems:
        raise AccountError(problems)
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    user.password_changed_at = now()
    unlock(user, actor=actor, audit=False)
    db.session.flush()
    log_event("user.password_reset", obj=user, actor=actor)


def unlock(user: User, *, actor=None, audit: bool = True) -> None:
    throttle = db.session.get(LoginThrottle, user.username)
    if throttle is not None:
        throttle.failures = 0
        throttle.locked_until = None
        db.session.flush()
    if audit:
        log_event("user.unlock", obj=user, actor=actor)


def set_enabled(user: User, enabled: bool, *, actor=None) -> None:
    if actor is not None and getattr(actor, "id", None) == user.id and not enabled:
        raise AccountError([_("不能停用自己的账户。")])
    if user.is_enabled == enabled:
        return
    user.is_enabled = enabled
    db.session.flush()
    log_event("user.enable" if enabled else "user.disable", obj=user, actor=actor)


def is_locked(username: str) -> bool:
    throttle = db.session.get(LoginThrottle, normalise_username(username))
    return bool(throttle and throttle.locked_until and throttle.locked_until > now())
