"""Jakarta's clock: Western Indonesia Time (WIB, UTC+7, no daylight saving). The one definition jaki uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def jakarta_now() -> datetime:
    """Now, on Jakarta's clock (an aware datetime)."""
    return datetime.now(WIB)


def jakarta_today(now: datetime | None = None) -> date:
    """Today's date in Jakarta, or the Jakarta date of the moment `now` (00:00-07:00 WIB is still yesterday in
    UTC): callers that read the clock through jaki.db.utcnow pass it, so the tests' clock holds."""
    return jakarta_now().date() if now is None else now.astimezone(WIB).date()
