"""Factories for report tests: categories, staff in Kebayoran Lama, reports in any status, and test photos."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

from PIL import Image

from jaki.db import new_uuid, utcnow
from jaki.extensions import db
from jaki.geo.cells import cell_of
from jaki.reports import categories, operations
from jaki.reports.models import Category, Report, ReportPhoto
from jaki.reports.reference import category_rows
from tests.factories import ensure_agency, make_user

# Points with known kelurahan (checked against jakarta_kelurahan.geojson).
POINTS = {
    "pondok_pinang": (-6.2710, 106.7770),  # 31.74.05.1002 Pondok Pinang, Kebayoran Lama, Jakarta Selatan
    "monas": (-6.1754, 106.8272),  # 31.71.01.1001 Gambir
    "blok_m": (-6.2440, 106.8000),  # 31.74.07.1001 Melawai, Kebayoran Baru
    "ragunan": (-6.3125, 106.8200),  # 31.74.04.1004 Ragunan, Pasar Minggu
    "java_sea": (-6.0000, 106.9000),  # inside Jakarta's bbox, outside every kelurahan: refused since issue 11
}


def seed_categories() -> None:
    for row in category_rows():
        ensure_agency(row["agency_code"])
    categories.upsert_categories(category_rows())


def category(code: str = "jalan_rusak") -> Category:
    if db.session.get(Category, code) is None:
        seed_categories()
    return db.session.get(Category, code)


def citizen(**kwargs):
    return make_user(**kwargs)


def officer(agency: str = "DBM", areas=("31.74.05",), **kwargs):
    ensure_agency(agency)
    return make_user(role="officer", agency_code=agency, areas=list(areas), **kwargs)


def kelurahan_officer(areas=("31.74.05.1002",), role: str = "officer", **kwargs):
    """Staff of the kelurahan office covering Pondok Pinang: its kelurahan unit, who verifies reports there."""
    ensure_agency("KELURAHAN", "Kantor Kelurahan")
    return make_user(role=role, agency_code="KELURAHAN", areas=list(areas), **kwargs)


def agency_admin(agency: str = "DBM", areas=("31.74",), **kwargs):
    ensure_agency(agency)
    return make_user(role="agency_admin", agency_code=agency, areas=list(areas), **kwargs)


def admin(**kwargs):
    return make_user(role="admin", **kwargs)


def make_report(
    reporter=None,
    *,
    category_code: str = "jalan_rusak",
    at: str | tuple = "pondok_pinang",
    description: str = "Jalan berlubang besar di depan sekolah",
    status: str | None = None,
    **fields,
) -> Report:
    """A report filed through operations (routing, history, event), then put straight into `status`."""
    category(category_code)
    lat, lon = POINTS[at] if isinstance(at, str) else at
    created = operations.create_report(
        reporter or citizen(),
        category_code=category_code,
        description=description,
        latitude=lat,
        longitude=lon,
        force=True,
        enforce_quota=False,
    )
    report = created.report
    if status is not None or fields:
        now = utcnow()
        if status in ("resolved", "closed"):
            fields.setdefault("resolved_at", now - timedelta(hours=1))
        if status == "closed":
            fields.setdefault("closed_at", now - timedelta(minutes=30))
        if status is not None:
            report.status = status
        for name, value in fields.items():
            setattr(report, name, value)
        db.session.commit()
    return report


def report_row(lat: float, lon: float, **fields) -> dict:
    """A reports table row for bulk inserts (Core INSERT: no routing, history or event); by default a submitted
    jalan_rusak report of DBM filed now. `fields` override any column."""
    now = utcnow()
    row = {
        "id": new_uuid(),
        "source": "test",
        "category_code": "jalan_rusak",
        "description": "Laporan uji",
        "latitude": lat,
        "longitude": lon,
        "cell": cell_of(lat, lon),
        "anonymous": False,
        "status": "submitted",
        "agency_code": "DBM",
        "version": 1,
        "sla_due_at": now,
        "support_count": 0,
        "reopen_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    row.update(fields)
    return row


def stored_unrouted_report(category_code: str = "sampah", at: tuple = POINTS["java_sea"]) -> Report:
    """A report stored with no kelurahan, as the bounding-box check once let in (new ones are refused)."""
    cat = category(category_code)
    row = report_row(*at, category_code=cat.code, agency_code=cat.agency_code)
    db.session.execute(Report.__table__.insert(), [row])
    db.session.commit()
    return db.session.get(Report, row["id"])


def add_evidence_row(report: Report, by=None) -> ReportPhoto:
    """An evidence photo row for the report's current round, without storage (workflow tests only)."""
    photo = ReportPhoto(
        report_id=report.id,
        kind="evidence",
        position=99,
        round=report.reopen_count,
        storage_key=f"reports/{report.id}/evidence.jpg",
        content_type="image/jpeg",
        width=1,
        height=1,
        size_bytes=1,
        sha256="0" * 64,
        uploaded_by_id=by.id if by else None,
    )
    db.session.add(photo)
    db.session.flush()
    return photo


# ---- photos -------------------------------------------------------------------------------------------


def png_bytes(size=(40, 30), color=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def heic_with_gps(marker: str = "iPhoneRahasia", size=(64, 48), orientation: int = 1) -> bytes:
    """A real HEIC (encoded by pillow-heif, as an iPhone writes them) with the camera and home GPS in EXIF."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = marker  # Make
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (6.0, 16.0, 15.6), "E", (106.0, 46.0, 37.2)
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def jpeg_with_gps(marker: str = "KameraRahasia") -> bytes:
    """A JPEG whose EXIF names the camera and holds the GPS position of the reporter's home."""
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = marker  # Make
    exif[0x0110] = marker + "-Model"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"
    gps[2] = (6.0, 16.0, 15.6)
    gps[3] = "E"
    gps[4] = (106.0, 46.0, 37.2)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header declares billions of pixels (a decompression bomb)."""
    data = png_bytes((1, 1))
    ihdr = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + ihdr
    return data[:8] + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def noise_png(seed: int = 0, size=(64, 48), block: int = 8) -> bytes:
    """A picture of random coloured blocks: each seed a different scene to the perceptual hash."""
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", size)
    for x in range(0, size[0], block):
        for y in range(0, size[1], block):
            image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + block, y + block))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def validator(areas=(), **kwargs):
    """Biro Pemerintahan's validator (no areas: every kelurahan)."""
    return make_user(role="validator", areas=list(areas), **kwargs)
