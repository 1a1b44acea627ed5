"""The service-level calendar an admin keeps: dated additions to (or exceptions from) the holidays library."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from jaki.errors import NotFound, field_error
from jaki.extensions import db
from jaki.services.permits.models import CalendarDay
from jaki.services.permits.sla import HOLIDAY, WORKDAY, national_days_off

LIBRARY = "library"
ADMIN = "admin"
_YEARS = range(2000, 2101)


def year_view(year: int) -> list[dict]:
    """Every day of the year the SLA clock treats apart: the library's days off (weekends aside) and the
    admin's rows, which take precedence, in date order."""
    if year not in _YEARS:
        raise field_error("year", "validation_error")
    import holidays

    names = holidays.country_holidays("ID", years=year, categories=("public", "government"), language="id")
    days = {
        day: {"day": day, "kind": HOLIDAY, "name": names.get(day), "source": LIBRARY} for day in national_days_off(year)
    }
    rows = db.session.scalars(
        select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    for row in rows:
        days[row.day] = {"day": row.day, "kind": row.kind, "name": row.name, "source": ADMIN}
    return [days[day] for day in sorted(days)]


def parse_day(text: str) -> date:
    """A YYYY-MM-DD day from the URL; anything else is a 422 on `day`."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise field_error("day", "validation_error") from None
    if day.year not in _YEARS:
        raise field_error("day", "validation_error")
    return day


def set_day(actor, day: date, kind: str, name: str) -> CalendarDay:
    """Add or change a dated exception (a cuti bersama the library does not know, or a day worked after all)."""
    if kind not in (HOLIDAY, WORKDAY):
        raise field_error("kind", "validation_error")
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=kind, name=name.strip(), created_by_id=actor.id)
        db.session.add(row)
    else:
        row.kind, row.name = kind, name.strip()
    db.session.commit()
    return row


def remove_day(day: date) -> None:
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise NotFound()
    db.session.delete(row)
    db.session.commit()
