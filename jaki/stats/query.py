"""A statistics question: its grouping, period (whole WIB months) and filters, checked; the names of its keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import func, select

from jaki.errors import field_error
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.i18n import current_language, translate
from jaki.reports import workflow as wf
from jaki.timezone import WIB

# The ways a question may group (two at most: agency,month). The area levels derive from the kelurahan code, so the
# aggregate table needs only that one column; the reports table is grouped by the same expressions (rollup.py).
GROUPS = ("kota", "kecamatan", "kelurahan", "category", "agency", "month", "status")
AREA_GROUPS = {"kota": 5, "kecamatan": 8, "kelurahan": 13}  # characters of the dotted code at each level
MAX_GROUPS = 2
MAX_MONTHS = 120
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
KEY_SEPARATOR = "|"

MONTH_NAMES = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip


def setting(name: str):
    return current_app.config[name]


def jakarta_month(now: datetime | None = None) -> date:
    """The first day of the current month in Jakarta."""
    today = (now or datetime.now(UTC)).astimezone(WIB).date()
    return today.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_start_utc(month: date) -> datetime:
    """When a WIB month begins, in UTC (reports.created_at is UTC)."""
    return datetime(month.year, month.month, 1, tzinfo=WIB).astimezone(UTC)


def month_key(value) -> str:
    """'YYYY-MM' of a month given as a date or as SQLite's 'YYYY-MM-01' text."""
    return value.strftime("%Y-%m") if isinstance(value, date) else str(value)[:7]


def parse_month(text: str | None, field_name: str) -> date | None:
    if text is None or text == "":
        return None
    match = _MONTH.match(text)
    if not match:
        raise field_error(field_name, "stats_month_invalid")
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class Question:
    """A statistics question, checked: months are inclusive (since..until), filters exist, groups are known."""

    group_by: tuple[str, ...]
    since: date
    until: date  # the last month counted (inclusive)
    category: str | None = None
    agency: str | None = None
    area: str | None = None

    @property
    def end(self) -> date:
        """The first month not counted."""
        return add_months(self.until, 1)

    def shape(self) -> dict:
        """The canonical form a medians rollup is keyed by."""
        return {
            "group_by": list(self.group_by),
            "since": month_key(self.since),
            "until": month_key(self.until),
            "category": self.category,
            "agency": self.agency,
            "area": self.area,
        }


def parse_group_by(text: str | None, allowed: tuple[str, ...] = GROUPS, max_groups: int = MAX_GROUPS) -> tuple:
    if not text:
        return ()
    groups = tuple(part.strip() for part in text.split(","))
    if len(groups) > max_groups or len(set(groups)) != len(groups) or any(g not in allowed for g in groups):
        raise field_error("group_by", "stats_group_by_invalid", allowed=", ".join(allowed), most=max_groups)
    return groups


def period(since: str | None, until: str | None) -> tuple[date, date]:
    """(since, until) months, inclusive; by default the last STATS_DEFAULT_MONTHS months up to this one."""
    last = parse_month(until, "until") or jakarta_month()
    first = parse_month(since, "since") or add_months(last, 1 - int(setting("STATS_DEFAULT_MONTHS")))
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months < 1:
        raise field_error("until", "stats_period_invalid")
    if months > MAX_MONTHS:
        raise field_error("since", "stats_period_too_long", most=MAX_MONTHS)
    return first, last


def check_area(code: str | None) -> str | None:
    """An area filter: a kota, kecamatan or kelurahan code that exists."""
    if not code:
        return None
    area = db.session.get(Area, code) if len(code) <= 20 else None
    if area is None or area.level not in ("kota", "kabupaten", "kecamatan", "kelurahan"):
        raise field_error("area", "area_unknown")
    return code


def check_category(code: str | None) -> str | None:
    from jaki.reports.models import Category

    if not code:
        return None
    if len(code) > 40 or db.session.get(Category, code) is None:
        raise field_error("category", "stats_category_unknown")
    return code


def check_agency(code: str | None) -> str | None:
    from jaki.agencies.models import Agency

    if not code:
        return None
    if len(code) > 40 or db.session.get(Agency, code) is None:
        raise field_error("agency", "agency_unknown")
    return code


def area_filter(kelurahan_column, code: str):
    """Rows whose kelurahan lies in the area (a kelurahan itself, or anything under a kota or kecamatan code)."""
    if len(code) >= AREA_GROUPS["kelurahan"]:
        return kelurahan_column == code
    return kelurahan_column.like(code + ".%")


def group_expression(group: str, *, kelurahan, category, agency, status, month):
    """The SQL expression of a grouping over a table's columns (the aggregate's, or the reports table's)."""
    if group in AREA_GROUPS:
        return kelurahan if group == "kelurahan" else func.substr(kelurahan, 1, AREA_GROUPS[group])
    return {"category": category, "agency": agency, "status": status, "month": month}[group]


def key_value(group: str, value) -> str:
    if group == "month":
        return month_key(value)
    return "" if value is None else str(value)


# ---- names ---------------------------------------------------------------------------------------------


class Names:
    """The names of the keys a grouping answers with, read once per answer, in the reader's language."""

    def __init__(self, groups: tuple[str, ...]):
        from jaki.agencies.models import Agency
        from jaki.geo.queries import area_names
        from jaki.reports.models import Category

        self.language = current_language()
        self.areas = area_names() if any(g in AREA_GROUPS for g in groups) else {}
        self.categories = {}
        if "category" in groups:
            english = self.language == "en"
            rows = db.session.execute(select(Category.code, Category.name, Category.name_en)).all()
            self.categories = {code: (en if english else name) for code, name, en in rows}
        self.agencies = dict(db.session.execute(select(Agency.code, Agency.name)).all()) if "agency" in groups else {}

    def name(self, group: str, key: str) -> str | None:
        if group in AREA_GROUPS:
            return self.areas.get(key) if key else translate("stats_no_kelurahan")
        if group == "category":
            return self.categories.get(key, key)
        if group == "agency":
            return self.agencies.get(key, key)
        if group == "status":
            return status_name(key)
        if group == "month":
            year, month = key.split("-")
            return f"{MONTH_NAMES[self.language][int(month) - 1]} {year}"
        return key


def status_name(status: str) -> str:
    """The status as staff read it: its own name where the catalogue has one, else the public label."""
    text = translate("stats_status_" + status)
    if text != "stats_status_" + status:
        return text
    return translate(wf.label_message(status)) if status in wf.PUBLIC_LABELS else status
