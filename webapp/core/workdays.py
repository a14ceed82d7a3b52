"""Chinese working days (调休 included) on the chinese-calendar library.

For a year the library does not know, weekends are the only days off and the result says so
(``known=False``); callers must then ask the office to confirm a date by hand (DESIGN §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class WorkdayAnswer:
    """Whether a day is a working day, and whether the calendar actually knew its year."""

    workday: bool
    known: bool


@dataclass(frozen=True)
class WorkdaySpan:
    """The end of a span of working days; ``known`` is False when any day fell in an unknown year."""

    start: date
    end: date
    working_days: int
    known: bool
    unknown_years: tuple[int, ...]


def is_workday(day: date) -> WorkdayAnswer:
    """Return whether ``day`` is a Chinese working day, falling back to Monday–Friday for unknown years."""
    try:
        return WorkdayAnswer(chinese_calendar.is_workday(day), True)
    except NotImplementedError:
        return WorkdayAnswer(day.weekday() < 5, False)


def nth_working_day(start: date, n: int) -> WorkdaySpan:
    """The date of the ``n``-th working day counting from ``start`` (``start`` counts if it is one).

    A publicity period of at least 5 working days that starts on ``start`` ends at the end of
    ``nth_working_day(start, 5).end``.

    >>> nth_working_day(date(2014, 12, 1), 5).end
    datetime.date(2014, 12, 5)
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    day = start
    counted = 0
    unknown: set[int] = set()
    while True:
        answer = is_workday(day)
        if not answer.known:
            unknown.add(day.year)
        if answer.workday:
            counted += 1
            if counted == n:
                return WorkdaySpan(start, day, n, not unknown, tuple(sorted(unknown)))
        day += timedelta(days=1)


def working_days_between(start: date, end: date) -> WorkdaySpan:
    """Count working days in the closed interval [start, end]."""
    if end < start:
        raise ValueError("end is before start")
    counted = 0
    unknown: set[int] = set()
    day = start
    while day <= end:
        answer = is_workday(day)
        if not answer.known:
            unknown.add(day.year)
        counted += answer.workday
        day += timedelta(days=1)
    return WorkdaySpan(start, end, counted, not unknown, tuple(sorted(unknown)))
