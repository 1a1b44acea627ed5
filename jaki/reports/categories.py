"""Report categories: the active ones, and admins adding and editing them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.errors import Conflict, NotFound, field_error
from jaki.extensions import db
from jaki.reports.models import Category


def list_categories(active_only: bool = True) -> list[Category]:
    query = select(Category).order_by(Category.sort_order, Category.code)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(db.session.scalars(query))


def active_category(code: str) -> Category:
    category = db.session.get(Category, code) if isinstance(code, str) and len(code) <= 40 else None
    if category is None or not category.active:
        raise field_error("category", "category_unknown")
    return category


def _check_agency(agency_code: str) -> None:
    if db.session.get(Agency, agency_code) is None:
        raise field_error("agency_code", "agency_unknown")


def create_category(
    *,
    code: str,
    name: str,
    name_en: str,
    agency_code: str,
    sla_hours: int,
    duplicate_radius_m: int = 50,
    active: bool = True,
    sort_order: int = 100,
    verified_by: str = "kelurahan",
    sensitive: bool = False,
    validation_required: bool = True,
    evidence_radius_m: int = 100,
) -> Category:
    _check_agency(agency_code)
    if db.session.get(Category, code) is not None:
        raise Conflict("category_exists")
    category = Category(
        code=code,
        name=name,
        name_en=name_en,
        agency_code=agency_code,
        sla_hours=sla_hours,
        duplicate_radius_m=duplicate_radius_m,
        active=active,
        sort_order=sort_order,
        verified_by=verified_by,
        sensitive=sensitive,
        validation_required=validation_required,
        evidence_radius_m=evidence_radius_m,
    )
    db.session.add(category)
    db.session.commit()
    return category


def update_category(code: str, changes: dict) -> Category:
    category = db.session.get(Category, code)
    if category is None:
        raise NotFound()
    if "agency_code" in changes:
        _check_agency(changes["agency_code"])
    for name in (
        "name",
        "name_en",
        "agency_code",
        "sla_hours",
        "duplicate_radius_m",
        "active",
        "sort_order",
        "verified_by",
        "sensitive",
        "validation_required",
        "evidence_radius_m",
    ):
        if name in changes:
            setattr(category, name, changes[name])
    db.session.commit()
    return category


def upsert_categories(rows: Iterable[dict]) -> int:
    """Add the categories that do not exist yet (admins' later edits are kept); returns how many were added."""
    added = 0
    for row in rows:
        if db.session.get(Category, row["code"]) is None and db.session.get(Agency, row["agency_code"]) is not None:
            db.session.add(Category(**row))
            added += 1
    db.session.flush()
    return added
