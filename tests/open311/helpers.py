"""Helpers for Open311 tests: categories, reports filed through jaki's pipeline, and XML/JSON readers."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta

from PIL import Image

from jaki.db import utcnow
from jaki.demo import AGENCIES
from jaki.extensions import db
from jaki.reports import categories, operations
from jaki.reports.reference import category_rows
from tests.factories import ensure_agency, make_user

BASE = "/open311/v2"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
# Points with known kelurahan (jakarta_kelurahan.geojson).
PONDOK_PINANG = (-6.2710, 106.7770)  # 31.74.05.1002, Kebayoran Lama
MONAS = (-6.1754, 106.8272)  # 31.71.01.1001, Gambir
BANDUNG = (-6.9175, 107.6191)  # outside Jakarta


def seed_categories() -> None:
    names = {code: name for code, name, _short in AGENCIES}
    for row in category_rows():
        ensure_agency(row["agency_code"], names[row["agency_code"]])
    categories.upsert_categories(category_rows())
    db.session.commit()


def png_bytes(color=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return buffer.getvalue()


def make_report(
    reporter=None,
    *,
    category_code="jalan_rusak",
    at=PONDOK_PINANG,
    description="Jalan berlubang besar di depan sekolah",
    status=None,
    age_days=None,
    photos=(),
    **fields,
):
    """A report filed by a citizen through jaki's pipeline, then moved straight to `status` / back in time."""
    seed_categories()
    created = operations.create_report(
        reporter or make_user(),
        category_code=category_code,
        description=description,
        latitude=at[0],
        longitude=at[1],
        force=True,
        enforce_quota=False,
        photos=photos,
    )
    report = created.report
    if status is not None:
        report.status = status
    if age_days is not None:
        report.created_at = utcnow() - timedelta(days=age_days)
    for name, value in fields.items():
        setattr(report, name, value)
    if status is not None or age_days is not None or fields:
        db.session.commit()
    return report


def xml(response) -> ET.Element:
    """The parsed body, after checking the UTF-8 declaration and content type every Open311 XML answer has."""
    assert response.content_type == "text/xml; charset=utf-8", response.content_type
    assert response.data.startswith(DECLARATION), response.data[:80]
    return ET.fromstring(response.data)  # noqa: S314 - our own server's output, not untrusted input


def children(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def text(element: ET.Element, tag: str) -> str | None:
    found = element.find(tag)
    assert found is not None, f"<{tag}> missing in <{element.tag}>"
    return found.text


def error_descriptions(response) -> list[str]:
    if response.content_type.startswith("application/json"):
        body = response.json
        assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body), body
        assert all(e["code"] == response.status_code for e in body)
        return [e["description"] for e in body]
    root = xml(response)
    assert root.tag == "errors" and len(root) >= 1
    for error in root:
        assert error.tag == "error" and children(error) == ["code", "description"]
        assert text(error, "code") == str(response.status_code)
    return [text(e, "description") for e in root]
