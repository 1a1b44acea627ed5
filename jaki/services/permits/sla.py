"""Service-level deadlines in working days, Jakarta time (WIB, UTC+7, no daylight saving).

A working day is Monday to Friday except Indonesia's national holidays and cuti bersama (joint leave), as the
`holidays` library knows them (its "government" category holds the cuti bersama of the joint ministerial
decree), adjusted by the admin's dated table (svc_calendar_days): a cuti bersama announced after the library's
release, or a library day that offices work after all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from jaki.services.permits.models import CalendarDay
from jaki.timezone import WIB

# The service counters' hours: a pause gives back the working days whose office hours it covered entirely.
OFFICE_OPENS = time(8, 0)
OFFICE_CLOSES = time(16, 0)
HOLIDAY, WORKDAY = "holiday", "workday"


@lru_cache(maxsize=32)
def national_days_off(year: int) -> frozenset[date]:
    """Indonesia's national holidays and cuti bersama of a year (the library's data; cached per process)."""
    days = holidays.country_holidays("ID", years=year, categories=("public", "government"))
    return frozenset(days)


def is_working_day(day: date, overrides: Mapping[date, str] | None = None) -> bool:
    kind = (overrides or {}).get(day)
    if kind is not None:
        return kind == WORKDAY
    return day.weekday() < 5 and day not in national_days_off(day.year)


def _next_working_day(day: date, overrides: Mapping[date, str] | None) -> date:
    day += timedelta(days=1)
    while not is_working_day(day, overrides):
        day += timedelta(days=1)
    return day


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=WIB).astimezone(UTC)


def add_working_days(start: datetime, days: int, overrides: Mapping[date, str] | None = None) -> datetime:
    """The end (23:59:59 WIB) of the `days`-th working day after `start`'s Jakarta date, in UTC."""
    day = start.astimezone(WIB).date()
    for _ in range(days):
        day = _next_working_day(day, overrides)
    return _end_of(day)


def working_days_paused(paused_at: datetime, resumed_at: datetime, overrides: Mapping[date, str] | None = None) -> int:
    """The working days whose office hours lay wholly inside a pause: the days the office could not work.

    Nights, weekends and holidays inside a pause cost nothing (a Friday 17:00 to Monday 09:00 pause gives back
    no day); a day the office held the file for part of its hours counts as worked.
    """
    day = paused_at.astimezone(WIB).date()
    last = resumed_at.astimezone(WIB).date()
    count = 0
    while day <= last:
        opens = datetime.combine(day, OFFICE_OPENS, tzinfo=WIB)
        closes = datetime.combine(day, OFFICE_CLOSES, tzinfo=WIB)
        if paused_at <= opens and closes <= resumed_at and is_working_day(day, overrides):
            count += 1
        day += timedelta(days=1)
    return count


def extend_for_pause(
    due_at: datetime, paused_at: datetime, resumed_at: datetime, overrides: Mapping[date, str] | None = None
) -> datetime:
    """The deadline after a pause: moved by the working days the pause took from the office, in working days."""
    return add_working_days(due_at, working_days_paused(paused_at, resumed_at, overrides), overrides)


def calendar_overrides(session, since: date) -> dict[date, str]:
    """The admin's dated table from `since` on (a few rows a year): day -> holiday | workday."""
    from sqlalchemy import select

    rows = session.execute(select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.day >= since))
    return dict(rows.all())
