"""Time: stored in UTC, shown and enforced in Beijing time (Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

BEIJING = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current time as an aware UTC datetime; tests and demos may freeze it with ``FROZEN_NOW``."""
    if has_app_context():
        frozen = current_app.config.get("FROZEN_NOW")
        if frozen is not None:
            value = frozen() if callable(frozen) else frozen
            return value.astimezone(UTC)
    return datetime.now(UTC)


def beijing(value: datetime) -> datetime:
    """An aware datetime converted to Beijing time."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: times are stored as aware UTC")
    return value.astimezone(BEIJING)


def beijing_today() -> date:
    return beijing(now()).date()


def beijing_datetime(day: date, at: time) -> datetime:
    """The UTC instant of a Beijing wall-clock date and time."""
    return datetime.combine(day, at, tzinfo=BEIJING).astimezone(UTC)


def format_beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if value is None:
        return ""
    return beijing(value).strftime(fmt)
