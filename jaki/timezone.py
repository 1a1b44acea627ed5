"""Jakarta's clock: Western Indonesia Time (WIB, UTC+7, no daylight saving). The one definition jaki uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def jakarta_now() -> datetime:
    """Now, on Jakarta's clock (an aware datetime)."""
    return datetime.now(WIB)


def jakarta_today() -> date:
    """Today's date in Jakarta."""
    return jakarta_now().date()
