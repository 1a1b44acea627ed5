"""Service-level deadlines in working days, Jakarta time (WIB, UTC+7, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 WIB) of the `days`-th working day after `start`'s day, in UTC.

    Working days are Monday to Friday. National holidays (cuti bersama included) are not subtracted: the
    deadline is generous by those days; a holiday calendar would be the next step.
    """
    day = start.astimezone(WIB).date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            added += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=WIB).astimezone(UTC)
