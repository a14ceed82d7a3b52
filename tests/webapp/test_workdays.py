"""Chinese working days (调休 included), checked against the official holiday notices."""

from __future__ import annotations

from datetime import date

import pytest

from webapp.core.workdays import is_workday, nth_working_day, working_days_between


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2024, 10, 1), False),  # National Day
        (date(2024, 10, 7), False),
        (date(2024, 10, 12), True),  # Saturday made a working day (调休)
        (date(2024, 9, 29), True),  # Sunday made a working day
        (date(2025, 1, 26), True),  # Sunday before Spring Festival, working
        (date(2025, 1, 29), False),  # Spring Festival
        (date(2014, 12, 1), True),
        (date(2014, 12, 6), False),  # plain Saturday
    ],
)
def test_is_workday_follows_state_council_calendar(day, workday):
    assert is_workday(day).workday is workday
    assert is_workday(day).known


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2014, 12, 1), date(2014, 12, 5)),  # plain week
        (date(2024, 9, 27), date(2024, 10, 9)),  # Fri, Sun 29 (调休), Mon 30, then the holiday, Tue 8, Wed 9
        (date(2024, 9, 30), date(2024, 10, 11)),  # across National Day: 30 Sep, 8, 9, 10, 11 Oct
        (date(2014, 12, 6), date(2014, 12, 12)),  # starting on a Saturday
    ],
)
def test_five_working_days_end(start, end):
    span = nth_working_day(start, 5)
    assert span.end == end
    assert span.known


def test_spring_festival_2025_span_counted_by_hand():
    # 24 Jan (Fri), 26 Jan (Sun, 调休), 27 Jan (Mon): 3; 28 Jan – 4 Feb holiday; 5, 6 Feb: 5.
    assert nth_working_day(date(2025, 1, 24), 5).end == date(2025, 2, 6)


def test_unknown_year_falls_back_to_weekends_and_says_so():
    span = nth_working_day(date(2099, 3, 2), 5)
    assert span.end == date(2099, 3, 6)
    assert not span.known
    assert span.unknown_years == (2099,)


def test_working_days_between_counts_closed_interval():
    # 28 Sep (Sat) off; 29 Sep (Sun, 调休) and 30 Sep; 1–7 Oct holiday; 8–11 Oct; 12 Oct (Sat, 调休).
    assert working_days_between(date(2024, 9, 28), date(2024, 10, 12)).working_days == 7


def test_nth_working_day_rejects_zero():
    with pytest.raises(ValueError):
        nth_working_day(date(2024, 1, 1), 0)
