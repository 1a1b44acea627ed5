"""Real reference data for an empty database: the 52 offices, aid programmes, permit types, report categories."""

from __future__ import annotations

from sqlalchemy import func, select

from jaki.agencies.models import Agency
from jaki.extensions import db
from jaki.reports.models import Category
from jaki.reports.reference import load_categories
from jaki.services.reference import load_reference


def load() -> list[str]:
    """Create or update every reference table (idempotent; admins' later edits to categories are kept).

    The order matters: categories point at agencies. The areas come from `flask areas import`, people from
    `flask users create-staff` and registration: neither is reference data.
    """
    services = load_reference()
    categories = load_categories()
    db.session.commit()
    stored = db.session.scalar(select(func.count()).select_from(Category))
    external = db.session.scalar(select(func.count()).select_from(Agency).where(Agency.kind == "external"))
    return [
        f"agencies: {services['offices']} offices ({services['integrated']} integrated with Satu Data) "
        f"and {services['wilayah']} kelurahan/kecamatan offices; {external} bodies outside the Pemprov (external)",
        f"aid programmes: {services['programmes']}; permit and letter types: {services['application_types']}",
        f"report categories: {stored} ({categories['added']} added now)",
    ]
